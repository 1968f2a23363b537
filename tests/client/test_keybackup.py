"""Key backup: a new device restores history with the recovery key; the server learns nothing."""

from __future__ import annotations

import pytest

from kabar.client.crypto.errors import InvalidRecoveryKey, WrongRecoveryKey
from kabar.client.models import Message, UnableToDecrypt
from support.clients import People, bodies, settle


async def test_a_new_device_restores_history_from_the_key_backup(
    people_on_each_backend: People,
) -> None:
    people = people_on_each_backend
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    group = await bob.create_group("friends", [alice.username])
    sent = []
    for i in range(12):  # both directions, both conversations, several sessions
        sender = (alice, bob)[i % 2]
        conversation = (chat, group)[i % 3 == 0].conversation_id
        sent.append((conversation, f"old message {i}"))
        await sender.send_text(conversation, f"old message {i}")
    await settle([alice, bob])
    laptop = await people.login(bob.username)
    restored = await laptop.restore_backup(people.recovery_keys[bob.username])
    assert restored >= 4
    await laptop.sync()
    for conversation in (chat.conversation_id, group.conversation_id):
        expected = [text for c, text in sent if c == conversation]
        assert bodies(laptop.history(conversation)) == expected
    assert laptop.undecrypted() == []
    await alice.send_text(chat.conversation_id, "new, after the laptop joined")
    await settle([alice, laptop])
    assert bodies(laptop.history(chat.conversation_id))[-1] == "new, after the laptop joined"


async def test_restoring_after_syncing_decrypts_what_was_waiting(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "sent before the new device")
    await settle([alice, bob])
    tablet = await people.login(bob.username)
    [waiting] = [u for u in await tablet.sync() if isinstance(u, UnableToDecrypt)]
    assert waiting.reason.value == "missing_session"
    assert waiting.before_device
    subscription = tablet.subscribe()
    await tablet.restore_backup(people.recovery_keys[bob.username])
    [message] = subscription.pending()
    assert isinstance(message, Message)
    assert message.event_id == waiting.event_id
    assert tablet.undecrypted() == []


async def test_a_device_that_joined_the_backup_keeps_it_current(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    phone = await people.login(bob.username)
    await phone.restore_backup(people.recovery_keys[bob.username])
    chat = await phone.open_direct(alice.username)
    await phone.send_text(chat.conversation_id, "from the phone")
    await settle([alice, bob, phone])
    laptop = await people.login(bob.username)
    await laptop.restore_backup(people.recovery_keys[bob.username])
    await laptop.sync()
    assert bodies(laptop.history(chat.conversation_id)) == ["from the phone"]


async def test_a_wrong_or_mistyped_recovery_key_is_refused(people: People) -> None:
    bob = await people.register("bob")
    alice = await people.register("alice")
    laptop = await people.login(bob.username)
    with pytest.raises(WrongRecoveryKey):
        await laptop.restore_backup(people.recovery_keys[alice.username])
    typo = people.recovery_keys[bob.username].replace(" ", "")
    typo = ("1" if typo[0] != "1" else "2") + typo[1:]
    with pytest.raises(InvalidRecoveryKey):
        await laptop.restore_backup(typo)
