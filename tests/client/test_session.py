"""The SDK through a real server: accounts with several devices, 1:1 and group round trips."""

from __future__ import annotations

import pytest

from kabar.client import Client
from kabar.client.crypto.errors import WrongPassphrase
from kabar.client.models import Message
from support.clients import PASSPHRASE, People, bodies, settle


async def test_a_direct_conversation_round_trips_between_two_accounts(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "hello bob")
    await settle([bob])
    assert bodies(bob.history(chat.conversation_id)) == ["hello bob"]
    await bob.send_text(chat.conversation_id, "hello alice")
    await settle([alice, bob])
    assert bodies(alice.history(chat.conversation_id)) == ["hello bob", "hello alice"]
    assert alice.undecrypted() == []
    assert bob.undecrypted() == []


async def test_several_devices_per_account_all_read_a_group(
    people_on_each_backend: People,
) -> None:
    people = people_on_each_backend
    alice1, bob1, carol = [await people.register(n) for n in ("alice", "bob", "carol")]
    alice2, bob2 = await people.login(alice1.username), await people.login(bob1.username)
    everyone = [alice1, alice2, bob1, bob2, carol]
    group = await alice1.create_group("book club", [bob1.username, carol.username])
    await settle(everyone)
    for n, session in enumerate(everyone):
        await session.send_text(group.conversation_id, f"message {n} from {session.username}")
    await settle(everyone)
    expected = [f"message {n} from {s.username}" for n, s in enumerate(everyone)]
    for session in everyone:
        assert bodies(session.history(group.conversation_id)) == expected, session.username
        assert session.undecrypted() == []


async def test_a_removed_member_cannot_read_what_is_sent_after(people: People) -> None:
    alice, bob, carol = [await people.register(n) for n in ("alice", "bob", "carol")]
    group = await alice.create_group("club", [bob.username, carol.username])
    conversation = group.conversation_id
    await settle([alice, bob, carol])
    before = await alice.send_text(conversation, "everyone reads this")
    await settle([alice, bob, carol])
    await alice.remove_member(conversation, carol.username)
    after = await alice.send_text(conversation, "carol must not read this")
    await settle([alice, bob, carol])
    assert bodies(bob.history(conversation)) == ["everyone reads this", "carol must not read this"]
    assert bodies(carol.history(conversation)) == ["everyone reads this"]
    # Even given the ciphertext by a hostile server, carol holds no key for the new session.
    envelopes = {e["event_id"]: e["content"] for e in await _raw_messages(alice, conversation)}
    result = carol.engine.megolm.decrypt(conversation, after.event_id, envelopes[after.event_id])
    assert not result.ok
    assert result.reason.value == "missing_session"
    assert envelopes[after.event_id]["session_id"] != envelopes[before.event_id]["session_id"]


async def test_a_member_removed_by_someone_else_rotates_every_senders_session(
    people: People,
) -> None:
    alice, bob, carol = [await people.register(n) for n in ("alice", "bob", "carol")]
    group = await alice.create_group("club", [bob.username, carol.username])
    conversation = group.conversation_id
    await settle([alice, bob, carol])
    await bob.send_text(conversation, "bob, before")
    await settle([alice, bob, carol])
    await alice.remove_member(conversation, carol.username)
    await settle([alice, bob, carol])  # bob learns of the removal from the event
    await bob.send_text(conversation, "bob, after")
    await settle([alice, bob, carol])
    assert bodies(alice.history(conversation)) == ["bob, before", "bob, after"]
    assert bodies(carol.history(conversation)) == ["bob, before"]
    envelopes = [e["content"] for e in await _raw_messages(alice, conversation)]
    assert envelopes[0]["session_id"] != envelopes[1]["session_id"]


async def _raw_messages(session, conversation_id: str) -> list[dict]:  # noqa: ANN001
    page = await session.api.history(conversation_id, limit=200)
    return [e for e in reversed(page["events"]) if e["type"] == "message"]


async def test_a_device_reopened_from_its_store_carries_on(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "before the restart")
    await bob.sync()
    path = bob.path
    await bob.close()
    await alice.send_text(chat.conversation_id, "while bob was away")
    with pytest.raises(WrongPassphrase):
        await Client.open(path, "not the passphrase")
    reopened = await Client.open(path, PASSPHRASE)
    people.sessions.append(reopened)
    assert reopened.device_id == bob.device_id
    new = [u for u in await reopened.sync() if isinstance(u, Message)]
    assert [m.body for m in new] == ["while bob was away"]  # nothing processed twice
    await reopened.send_text(chat.conversation_id, "back again")
    await settle([alice])
    assert bodies(alice.history(chat.conversation_id)) == [
        "before the restart",
        "while bob was away",
        "back again",
    ]
