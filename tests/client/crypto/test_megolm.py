from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from vodozemac import ExportedSessionKey, GroupSession, InboundGroupSession

from kabar.client.crypto.errors import SessionNeedsRotation
from kabar.client.crypto.inbound import ExportedSession
from kabar.client.crypto.megolm import (
    ALGORITHM,
    ROOM_KEY,
    Decrypted,
    DecryptionFailure,
    DecryptResult,
    FailureReason,
)
from kabar.client.crypto.testing import FakeClock, FakeServer, TestDevice
from kabar.ids import new_conversation_id, new_event_id
from kabar.protocol import franking
from kabar.protocol.canonical import canonical_json

MEMBERS = ["alice", "bob", "carol"]
WEEK = 7 * 24 * 3600.0


class Group:
    """Three accounts with two devices each, all in one conversation."""

    def __init__(self, server: FakeServer, clock: FakeClock) -> None:
        self.server = server
        self.conversation = new_conversation_id()
        self.members = list(MEMBERS)
        self.devices = {
            f"{name}{n}": TestDevice(server, name, clock=clock) for name in MEMBERS for n in (1, 2)
        }

    def __getitem__(self, name: str) -> TestDevice:
        return self.devices[name]

    def send(self, sender: str, body: str) -> tuple[str, dict[str, Any]]:
        envelope = self[sender].send(
            self.conversation, self.members, {"type": "m.text", "body": body}
        )
        return new_event_id(), envelope

    def deliver(self) -> None:
        for device in self.devices.values():
            device.refresh(MEMBERS + ["dave"])
            device.receive()

    def read(self, reader: str, event: tuple[str, dict[str, Any]]) -> DecryptResult:
        event_id, envelope = event
        return self[reader].decrypt(self.conversation, event_id, envelope)


@pytest.fixture
def group(server: FakeServer, clock: FakeClock) -> Group:
    return Group(server, clock)


def text(result: DecryptResult) -> str:
    assert isinstance(result, Decrypted), result
    return str(result.content["body"])


def reason(result: DecryptResult) -> FailureReason:
    assert isinstance(result, DecryptionFailure), result
    return result.reason


def test_every_member_device_decrypts_and_sees_who_sent(group: Group) -> None:
    event = group.send("alice1", "hello group")
    group.deliver()
    for name in group.devices:
        result = group.read(name, event)
        assert text(result) == "hello group"
        assert isinstance(result, Decrypted)
        assert result.sender_key == group["alice1"].identity.curve25519
        assert result.sender_ed25519 == group["alice1"].identity.ed25519
        assert not result.forwarded


def test_envelope_matches_wire_format_and_hides_the_text(group: Group) -> None:
    _, envelope = group.send("bob2", "secret words")
    assert set(envelope) == {
        "algorithm",
        "ciphertext",
        "session_id",
        "sender_key",
        "franking_commitment",
    }
    assert envelope["algorithm"] == ALGORITHM
    assert len(base64.b64decode(envelope["franking_commitment"] + "=")) == 32
    assert "secret" not in str(envelope)


def test_several_senders_each_use_their_own_session(group: Group) -> None:
    events = [group.send(sender, f"from {sender}") for sender in ("alice1", "bob1", "carol2")]
    group.deliver()
    for event, sender in zip(events, ("alice1", "bob1", "carol2"), strict=True):
        assert all(text(group.read(n, event)) == f"from {sender}" for n in group.devices)
    assert len({envelope["session_id"] for _, envelope in events}) == 3


def test_room_key_is_shared_once_per_session(group: Group) -> None:
    group.send("alice1", "one")
    group.deliver()
    group.send("alice1", "two")
    assert group.server.inboxes == {}


def test_session_rotates_after_100_messages(group: Group) -> None:
    events = [group.send("alice1", f"m{i}") for i in range(101)]
    group.deliver()
    sessions = [envelope["session_id"] for _, envelope in events]
    assert len(set(sessions[:100])) == 1
    assert sessions[100] != sessions[0]
    assert text(group.read("carol2", events[99])) == "m99"
    assert text(group.read("carol2", events[100])) == "m100"


def test_session_rotates_after_seven_days(group: Group, clock: FakeClock) -> None:
    first = group.send("bob1", "monday")
    clock.advance(WEEK - 60)
    same = group.send("bob1", "almost a week")
    clock.advance(60)
    rotated = group.send("bob1", "a week later")
    group.deliver()
    assert first[1]["session_id"] == same[1]["session_id"] != rotated[1]["session_id"]
    assert text(group.read("alice2", rotated)) == "a week later"


def test_removed_member_cannot_decrypt_anything_new(group: Group) -> None:
    before = group.send("alice1", "carol is here")
    group.deliver()
    group.members.remove("carol")
    group["alice1"].megolm.rotate(group.conversation)
    after = group.send("alice1", "carol is gone")
    group.deliver()
    assert after[1]["session_id"] != before[1]["session_id"]
    for name in ("carol1", "carol2"):
        assert text(group.read(name, before)) == "carol is here"
        assert reason(group.read(name, after)) == FailureReason.MISSING_SESSION
    assert text(group.read("bob2", after)) == "carol is gone"


def test_dropping_a_device_from_the_recipients_rotates_even_without_rotate(group: Group) -> None:
    before = group.send("alice1", "all here")
    group.deliver()
    group.members.remove("bob")
    after = group.send("alice1", "bob left")
    group.deliver()
    assert after[1]["session_id"] != before[1]["session_id"]
    assert reason(group.read("bob1", after)) == FailureReason.MISSING_SESSION


def test_new_device_gets_the_current_key_but_not_earlier_messages(
    group: Group, server: FakeServer, clock: FakeClock
) -> None:
    old = group.send("alice1", "before dave")
    group.deliver()
    dave = TestDevice(server, "dave", clock=clock)
    group.devices["dave1"] = dave
    group.members.append("dave")
    new = group.send("alice1", "welcome dave")
    group.deliver()
    assert new[1]["session_id"] == old[1]["session_id"]  # adding a member needs no rotation
    assert reason(group.read("dave1", old)) == FailureReason.UNKNOWN_INDEX
    assert text(group.read("dave1", new)) == "welcome dave"


def test_encrypt_needs_a_prepared_current_session(group: Group, clock: FakeClock) -> None:
    machine = group["alice1"].megolm
    with pytest.raises(SessionNeedsRotation):
        machine.encrypt(group.conversation, {"body": "no session"})
    group.send("alice1", "prepared")
    clock.advance(WEEK)
    with pytest.raises(SessionNeedsRotation):
        machine.encrypt(group.conversation, {"body": "too old"})


def test_replayed_index_under_a_new_event_id_is_flagged(group: Group) -> None:
    event_id, envelope = group.send("alice1", "pay 10")
    group.deliver()
    assert text(group.read("bob1", (event_id, envelope))) == "pay 10"
    assert text(group.read("bob1", (event_id, envelope))) == "pay 10"  # re-reading is fine
    assert reason(group.read("bob1", (new_event_id(), envelope))) == FailureReason.REPLAYED_INDEX


def test_tampered_or_swapped_commitment_is_dropped(group: Group) -> None:
    _, envelope = group.send("alice1", "original")
    _, other = group.send("alice1", "other")
    group.deliver()
    swapped = {**envelope, "franking_commitment": other["franking_commitment"]}
    assert reason(group.read("bob1", (new_event_id(), swapped))) == FailureReason.FRANKING_MISMATCH
    random = {**envelope, "franking_commitment": base64.b64encode(os.urandom(32)).decode()}
    assert reason(group.read("bob1", (new_event_id(), random))) == FailureReason.FRANKING_MISMATCH


class RogueSender:
    """A member whose client builds Megolm plaintexts by hand (to test the receiver's checks)."""

    def __init__(self, device: TestDevice, conversation: str) -> None:
        self.device, self.conversation = device, conversation
        self.session = GroupSession()

    def share(self, devices: list[TestDevice]) -> None:
        key = {
            "type": ROOM_KEY,
            "conversation_id": self.conversation,
            "session_id": self.session.session_id,
            "session_key": self.session.session_key.to_base64(),
            "message_index": 0,
        }
        self.device.refresh(d.username for d in devices)
        self.device.send_to_device(key, [d.keys for d in devices])

    def envelope(self, plaintext: dict[str, Any], commitment: bytes) -> dict[str, Any]:
        return {
            "algorithm": ALGORITHM,
            "ciphertext": self.session.encrypt(canonical_json(plaintext)).to_base64(),
            "session_id": self.session.session_id,
            "sender_key": self.device.identity.curve25519,
            "franking_commitment": base64.b64encode(commitment).decode(),
        }


def test_sender_committing_to_a_different_text_is_dropped(group: Group) -> None:
    rogue = RogueSender(group["carol1"], group.conversation)
    rogue.share([group["bob1"]])
    group.deliver()
    fk = os.urandom(32)
    shown = {"type": "m.text", "body": "harmless"}
    committed = {"type": "m.text", "body": "abusive"}
    plaintext = {"conversation_id": group.conversation, "content": shown, "franking_key": ""}
    plaintext["franking_key"] = base64.b64encode(fk).decode()
    envelope = rogue.envelope(plaintext, franking.commit(fk, canonical_json(committed)))
    assert reason(group.read("bob1", (new_event_id(), envelope))) == FailureReason.FRANKING_MISMATCH


def test_message_encrypted_for_another_conversation_is_refused(group: Group) -> None:
    rogue = RogueSender(group["carol1"], group.conversation)
    rogue.share([group["bob1"]])
    group.deliver()
    fk, content = os.urandom(32), {"type": "m.text", "body": "meant elsewhere"}
    plaintext = {
        "conversation_id": new_conversation_id(),
        "content": content,
        "franking_key": base64.b64encode(fk).decode(),
    }
    envelope = rogue.envelope(plaintext, franking.commit(fk, canonical_json(content)))
    result = group.read("bob1", (new_event_id(), envelope))
    assert reason(result) == FailureReason.WRONG_CONVERSATION


def test_corrupted_and_malformed_envelopes_are_bad_ciphertext(group: Group) -> None:
    _, envelope = group.send("alice1", "fine")
    group.deliver()
    raw = bytearray(base64.b64decode(envelope["ciphertext"] + "=="))
    raw[20] ^= 1
    corrupted = {**envelope, "ciphertext": base64.b64encode(bytes(raw)).decode()}
    assert reason(group.read("bob1", (new_event_id(), corrupted))) == FailureReason.BAD_CIPHERTEXT
    for broken in ({}, {**envelope, "algorithm": "x"}, {**envelope, "franking_commitment": "AA"}):
        assert reason(group.read("bob1", (new_event_id(), broken))) == FailureReason.BAD_CIPHERTEXT


def test_message_in_another_conversation_has_no_session_there(group: Group) -> None:
    event_id, envelope = group.send("alice1", "here")
    group.deliver()
    result = group["bob1"].decrypt(new_conversation_id(), event_id, envelope)
    assert reason(result) == FailureReason.MISSING_SESSION
    assert isinstance(result, DecryptionFailure)
    assert result.session_id == envelope["session_id"]


def export_at(session: GroupSession, conversation: str, sender: str, index: int) -> ExportedSession:
    inbound = InboundGroupSession(session.session_key)
    exported = inbound.export_at(index)
    assert exported is not None
    return ExportedSession(conversation, sender, session.session_id, exported.to_base64(), index)


def test_lowest_first_known_index_is_kept(group: Group) -> None:
    rogue = RogueSender(group["carol1"], group.conversation)
    sender = rogue.device.identity.curve25519
    machine = group["bob1"].megolm
    assert machine.import_session(export_at(rogue.session, group.conversation, sender, 5))
    assert machine.import_session(export_at(rogue.session, group.conversation, sender, 2))
    assert not machine.import_session(export_at(rogue.session, group.conversation, sender, 7))
    export = machine.inbound.export(group.conversation, sender, rogue.session.session_id)
    assert export is not None
    assert export.first_known_index == 2


def test_lower_index_copy_with_a_forged_ratchet_is_refused(group: Group) -> None:
    rogue = RogueSender(group["carol1"], group.conversation)
    sender = rogue.device.identity.curve25519
    machine = group["bob1"].megolm
    genuine = export_at(rogue.session, group.conversation, sender, 5)
    assert machine.import_session(genuine)
    # Same session id (signing key), index 0, random ratchet: version, index, ratchet, key.
    raw = base64.b64decode(genuine.session_key + "==")
    forged_raw = raw[:1] + (0).to_bytes(4, "big") + os.urandom(128) + raw[133:]
    forged_key = base64.b64encode(forged_raw).decode().rstrip("=")
    assert InboundGroupSession.import_session(ExportedSessionKey(forged_key)).session_id == (
        rogue.session.session_id
    )
    forged = ExportedSession(group.conversation, sender, rogue.session.session_id, forged_key, 0)
    assert not machine.import_session(forged)
    export = machine.inbound.export(group.conversation, sender, rogue.session.session_id)
    assert export is not None
    assert export.first_known_index == 5


def test_direct_room_key_upgrades_a_forwarded_copy_at_the_same_index(group: Group) -> None:
    event = group.send("alice1", "hello")
    machine = group["bob1"].megolm
    sender = group["alice1"].identity.curve25519
    export = group["alice1"].megolm.inbound.export(
        group.conversation, sender, event[1]["session_id"]
    )
    assert export is not None
    assert machine.import_session(export)
    result = group.read("bob1", event)
    assert isinstance(result, Decrypted)
    assert result.forwarded
    group.deliver()  # the room key itself arrives over Olm
    result = group.read("bob1", event)
    assert isinstance(result, Decrypted)
    assert not result.forwarded


def test_a_late_share_reads_from_the_given_index_and_not_before(
    server: FakeServer, clock: FakeClock
) -> None:
    conversation = new_conversation_id()
    alice, bob = TestDevice(server, "alice", clock=clock), TestDevice(server, "bob", clock=clock)
    sent = [alice.send(conversation, ["alice"], {"body": f"m{i}"}) for i in range(3)]
    # Bob's device was announced after m0 was sent: it gets the key from index 1.
    bob.refresh(["alice"])
    alice.refresh(["bob"])
    content = alice.megolm.room_key_at(conversation, 1)
    assert content["exported"] is True
    alice.send_to_device(content, [bob.keys])
    alice.megolm.mark_shared(conversation, [bob.keys])
    bob.receive()
    results = [bob.decrypt(conversation, new_event_id(), envelope) for envelope in sent]
    assert isinstance(results[0], DecryptionFailure)
    assert results[0].reason == FailureReason.UNKNOWN_INDEX
    assert [r.content["body"] for r in results[1:] if isinstance(r, Decrypted)] == ["m1", "m2"]
    assert not any(r.forwarded for r in results[1:] if isinstance(r, Decrypted))
    assert bob.keys.curve25519 in alice.megolm.shared_with(conversation)
    later = alice.send(conversation, ["alice", "bob"], {"body": "m3"})
    assert server.inboxes == {}  # already shared: nothing sent again
    assert isinstance(bob.decrypt(conversation, new_event_id(), later), Decrypted)
