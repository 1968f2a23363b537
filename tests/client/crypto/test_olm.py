from __future__ import annotations

import base64
from typing import Any

import pytest
from vodozemac import Account, Curve25519PublicKey

from kabar.client.crypto.device import DeviceIdentity
from kabar.client.crypto.errors import (
    InvalidSignature,
    MalformedPayload,
    MissingOlmSession,
    OlmDecryptionFailed,
    RejectedPayload,
    UnknownSenderDevice,
)
from kabar.client.crypto.olm import ALGORITHM
from kabar.client.crypto.testing import FakeServer, TestDevice
from kabar.protocol.canonical import canonical_json

PING = {"type": "test.ping", "text": "hello"}


def pair(server: FakeServer) -> tuple[TestDevice, TestDevice]:
    alice, bob = TestDevice(server, "alice"), TestDevice(server, "bob")
    alice.refresh(["bob"])
    bob.refresh(["alice"])
    return alice, bob


def test_to_device_round_trip_both_ways(server: FakeServer) -> None:
    alice, bob = pair(server)
    alice.send_to_device(PING, [bob.keys])
    [message] = bob.receive()
    assert (message.type, message.content, message.sender) == ("test.ping", PING, "alice")
    assert message.sender_device == alice.device_id
    assert message.sender_key == alice.identity.curve25519
    assert message.sender_ed25519 == alice.identity.ed25519

    bob.send_to_device({"type": "test.pong", "n": 1}, [alice.keys])
    [reply] = alice.receive()
    assert reply.content == {"type": "test.pong", "n": 1}
    assert reply.sender == "bob"


def test_payload_matches_wire_format(server: FakeServer) -> None:
    alice, bob = pair(server)
    alice.send_to_device(PING, [bob.keys])
    [payload] = server.inboxes[bob.address]
    assert payload["algorithm"] == ALGORITHM
    assert payload["sender_key"] == alice.identity.curve25519
    [(recipient, ciphertext)] = payload["ciphertext"].items()
    assert recipient == bob.identity.curve25519
    assert ciphertext["type"] == 0
    assert b"hello" not in base64.b64decode(ciphertext["body"] + "==")


def test_sessions_are_reused_in_both_directions(server: FakeServer) -> None:
    alice, bob = pair(server)
    alice.send_to_device(PING, [bob.keys])
    bob.receive()
    stock = len(server.one_time_keys[bob.address])
    for n in range(3):
        bob.send_to_device({"type": "test.pong", "n": n}, [alice.keys])
        alice.send_to_device({"type": "test.ping", "n": n}, [bob.keys])
    assert [m.content["n"] for m in alice.receive()] == [0, 1, 2]
    assert [m.content["n"] for m in bob.receive()] == [0, 1, 2]
    # No new session was needed: no one-time key was claimed, and messages are normal ones.
    assert len(server.one_time_keys[bob.address]) == stock
    assert len(server.one_time_keys[alice.address]) == 50
    alice.send_to_device(PING, [bob.keys])
    assert server.inboxes[bob.address][0]["ciphertext"][bob.identity.curve25519]["type"] == 1
    assert len(alice.olm.changes(bytes(32))) == 1


def test_pre_key_messages_before_a_reply_all_use_one_session(server: FakeServer) -> None:
    alice, bob = pair(server)
    for n in range(3):
        alice.send_to_device({"type": "test.ping", "n": n}, [bob.keys])
    assert [m.content["n"] for m in bob.receive()] == [0, 1, 2]
    assert len(bob.olm.changes(bytes(32))) == 1


def test_fallback_key_is_used_when_one_time_keys_run_out(server: FakeServer) -> None:
    alice, bob = pair(server)
    server.one_time_keys[bob.address].clear()
    alice.send_to_device(PING, [bob.keys])
    assert [m.content for m in bob.receive()] == [PING]


def test_encrypt_without_session_names_the_devices_to_claim_for(server: FakeServer) -> None:
    alice, bob = pair(server)
    with pytest.raises(MissingOlmSession) as caught:
        alice.olm.encrypt(PING, [bob.keys])
    assert caught.value.devices == [("bob", bob.device_id)]


def test_claimed_key_with_bad_signature_opens_no_session(server: FakeServer) -> None:
    alice, bob = pair(server)
    claimed = server.claim(bob.address)
    assert claimed is not None
    forged = {**claimed, "key": Account().curve25519_key.to_base64()}
    with pytest.raises(InvalidSignature):
        alice.olm.create_outbound_session(bob.keys, forged)
    assert not alice.olm.has_session(bob.keys)


def raw_payload(attacker: Account, target: TestDevice, plaintext: dict[str, Any]) -> dict[str, Any]:
    """Encrypt an arbitrary plaintext to ``target`` with a bare vodozemac account."""
    claimed = target.server.claim(target.address)
    assert claimed is not None
    session = attacker.create_outbound_session(
        Curve25519PublicKey.from_base64(target.identity.curve25519),
        Curve25519PublicKey.from_base64(claimed["key"]),
    )
    message_type, body = session.encrypt(canonical_json(plaintext)).to_parts()
    return {
        "algorithm": ALGORITHM,
        "sender_key": attacker.curve25519_key.to_base64(),
        "ciphertext": {
            target.identity.curve25519: {
                "type": message_type,
                "body": base64.b64encode(body).decode(),
            }
        },
    }


def plaintext(sender: TestDevice, recipient: TestDevice) -> dict[str, Any]:
    return {
        "type": "test.ping",
        "content": PING,
        "sender": sender.username,
        "sender_device": sender.device_id,
        "sender_ed25519": sender.identity.ed25519,
        "recipient": recipient.username,
        "recipient_device": recipient.device_id,
        "recipient_ed25519": recipient.identity.ed25519,
    }


def known_attacker(server: FakeServer, victim: TestDevice) -> tuple[Account, TestDevice]:
    """A device the victim knows, whose raw vodozemac account the test controls."""
    account = Account()
    mallory = TestDevice(server, "mallory", identity=DeviceIdentity("mallory", "d_m", account))
    victim.refresh(["mallory"])
    return account, mallory


def test_known_device_sending_honestly_is_accepted(server: FakeServer) -> None:
    _, bob = pair(server)
    account, mallory = known_attacker(server, bob)
    assert bob.olm.decrypt(raw_payload(account, bob, plaintext(mallory, bob))).sender == "mallory"


def test_message_claiming_another_sender_is_rejected(server: FakeServer) -> None:
    alice, bob = pair(server)
    account, _ = known_attacker(server, bob)
    payload = raw_payload(account, bob, plaintext(alice, bob))
    with pytest.raises(RejectedPayload, match="sender keys"):
        bob.olm.decrypt(payload)


def test_message_forwarded_from_another_recipient_is_rejected(server: FakeServer) -> None:
    # Mallory re-encrypts, unchanged, a message that was addressed to Carol.
    _, bob = pair(server)
    carol = TestDevice(server, "carol")
    account, mallory = known_attacker(server, bob)
    payload = raw_payload(account, bob, plaintext(mallory, carol))
    with pytest.raises(RejectedPayload, match="addressed to another device"):
        bob.olm.decrypt(payload)


def test_payload_for_another_device_is_rejected(server: FakeServer) -> None:
    alice, bob = pair(server)
    carol = TestDevice(server, "carol")
    alice.refresh(["carol"])
    alice.send_to_device(PING, [bob.keys])
    [payload] = server.take_inbox(bob.address)
    with pytest.raises(RejectedPayload):
        carol.olm.decrypt(payload)


def test_unknown_sender_is_held_until_its_keys_are_known(server: FakeServer) -> None:
    alice, bob = TestDevice(server, "alice"), TestDevice(server, "bob")
    alice.refresh(["bob"])
    alice.send_to_device(PING, [bob.keys])
    [payload] = server.take_inbox(bob.address)
    with pytest.raises(UnknownSenderDevice) as caught:
        bob.olm.decrypt(payload)
    bob.refresh(["alice"])
    message = bob.olm.confirm(caught.value.pending)
    assert message.content == PING


def test_garbage_and_tampered_ciphertext_fail_cleanly(server: FakeServer) -> None:
    alice, bob = pair(server)
    with pytest.raises(MalformedPayload):
        bob.olm.decrypt({"algorithm": "other"})
    alice.send_to_device(PING, [bob.keys])
    bob.receive()
    alice.send_to_device(PING, [bob.keys])
    [payload] = server.take_inbox(bob.address)
    entry = payload["ciphertext"][bob.identity.curve25519]
    body = bytearray(base64.b64decode(entry["body"] + "=="))
    body[-3] ^= 1
    entry["body"] = base64.b64encode(bytes(body)).decode()
    with pytest.raises(OlmDecryptionFailed):
        bob.olm.decrypt(payload)
