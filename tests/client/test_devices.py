"""Devices joining late, staying offline, changing: nobody misses a message they should read."""

from __future__ import annotations

import pytest

from kabar.client.models import DeviceWarning, Message, UnableToDecrypt
from support.clients import People, bodies, settle


async def test_a_device_added_mid_conversation_reads_everything_after_it_joined(
    people: People,
) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    conversation = chat.conversation_id
    for i in range(3):
        await alice.send_text(conversation, f"before {i}")
    await settle([alice, bob])
    phone = await people.login(bob.username)
    # Alice sends at once, before she could have seen the phone announced: the late
    # share gives it the key from the first message after its announcement.
    for i in range(3):
        await alice.send_text(conversation, f"after {i}")
    await bob.send_text(conversation, "bob from his laptop")
    await settle([alice, bob, phone])
    history = phone.history(conversation)
    readable = [m.body for m in history if isinstance(m, Message)]
    assert readable == ["after 0", "after 1", "after 2", "bob from his laptop"]
    missing = [m for m in history if isinstance(m, UnableToDecrypt)]
    assert len(missing) == 3
    assert all(m.before_device for m in missing)  # only what was sent before it existed
    assert bodies(alice.history(conversation))[-1] == "bob from his laptop"


async def test_a_new_member_reads_from_when_they_joined(people: People) -> None:
    alice, bob, carol = [await people.register(n) for n in ("alice", "bob", "carol")]
    group = await alice.create_group("club", [bob.username])
    conversation = group.conversation_id
    path = f"/v1/conversations/{conversation}/members/{bob.username}/role"
    await alice.http.request("PUT", path, json={"role": "admin"})
    await alice.send_text(conversation, "before carol")
    await settle([alice, bob])
    await bob.add_members(conversation, [carol.username])
    await alice.send_text(conversation, "welcome carol")  # alice has not seen the join yet
    await settle([alice, bob, carol])
    assert bodies(carol.history(conversation)) == ["welcome carol"]
    assert carol.undecrypted() == []


@pytest.mark.slow
async def test_a_device_offline_through_500_messages_catches_up(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    tablet = await people.login(bob.username)
    group = await alice.create_group("busy", [bob.username])
    conversation = group.conversation_id
    await settle([alice, bob, tablet])
    sent = [f"message {i}" for i in range(500)]
    for text in sent:  # five session rotations happen on the way (every 100 messages)
        await alice.send_text(conversation, text)
    await tablet.sync()
    assert bodies(tablet.history(conversation, limit=1000)) == sent
    assert tablet.undecrypted() == []
    session_ids = {e["content"]["session_id"] for e in await _messages(alice, conversation)}
    assert len(session_ids) == 5


async def test_contacts_are_warned_when_devices_are_added_or_removed(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "first")
    assert _warnings(await alice.sync()) == []  # first contact: trusted on first use
    before = await alice.safety_number(bob.username)
    phone = await people.login(bob.username)
    [warning] = _warnings(await alice.sync())  # announced before alice sends again
    assert warning.username == bob.username
    assert warning.added == (phone.device_id,)
    after = await alice.safety_number(bob.username)
    assert after.number != before.number
    assert (await bob.safety_number(alice.username)).number == after.number  # symmetric
    await bob.revoke_device(phone.device_id)
    [removed] = _warnings(await alice.sync())
    assert removed.removed == (phone.device_id,)
    assert (await alice.safety_number(bob.username)).number == before.number


async def test_verifying_a_safety_number_marks_the_senders_messages(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    number = await alice.safety_number(bob.username)
    assert not number.verified
    await alice.verify(bob.username)
    assert (await alice.safety_number(bob.username)).verified
    await bob.send_text(chat.conversation_id, "verified sender")
    [message] = [u for u in await alice.sync() if isinstance(u, Message)]
    assert message.trust.value == "verified"


def _warnings(updates: list) -> list[DeviceWarning]:
    return [u for u in updates if isinstance(u, DeviceWarning)]


async def _messages(session, conversation_id: str) -> list[dict]:  # noqa: ANN001
    events: list[dict] = []
    before = None
    while True:
        page = await session.api.history(conversation_id, before=before, limit=200)
        events += [e for e in page["events"] if e["type"] == "message"]
        before = page["next_before"]
        if before is None:
            return events


async def test_own_verified_devices_forward_keys_to_each_other(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "sent before the tablet existed")
    await settle([alice, bob])
    tablet = await people.login(bob.username)
    # Bob compares what both devices show for his own account and verifies each.
    laptop_view, tablet_view = (
        await bob.safety_number(bob.username),
        await tablet.safety_number(bob.username),
    )
    assert laptop_view.number == tablet_view.number
    await bob.verify(bob.username)
    await tablet.verify(bob.username)
    await settle([bob, tablet])  # tablet asks bob's laptop, the laptop answers
    assert bodies(tablet.history(chat.conversation_id)) == ["sent before the tablet existed"]
    assert tablet.undecrypted() == []


async def test_an_unverified_own_device_gets_no_forwarded_keys(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "private")
    await settle([alice, bob])
    stranger = await people.login(bob.username)  # e.g. a device the server made up
    await settle([bob, stranger])
    [missing] = stranger.undecrypted()
    assert missing.reason.value == "missing_session"


async def test_one_time_keys_are_topped_up_from_the_count_in_sync(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    for _ in range(60):  # every one-time key claimed, then the fallback key
        await alice.api.claim_keys([bob.device_id])
    before = await bob.api.key_count()
    assert before == {"one_time_key_count": 0, "fallback_key_unused": False}
    await bob.sync()
    after = await bob.api.key_count()
    assert after == {"one_time_key_count": 50, "fallback_key_unused": True}
