from __future__ import annotations

import base64
import os

import pytest

from kabar.client.crypto.franking import report_body, report_for, report_opens
from kabar.client.crypto.megolm import Decrypted
from kabar.client.crypto.testing import FakeClock, FakeServer, TestDevice
from kabar.ids import new_account_id, new_conversation_id, new_device_id, new_event_id
from kabar.protocol import franking
from kabar.protocol.canonical import canonical_json


def b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def delivered(server: FakeServer, clock: FakeClock) -> tuple[dict[str, object], Decrypted]:
    """Alice sends Bob a message; Bob decrypts it. Returns (envelope, Bob's result)."""
    alice, bob = TestDevice(server, "alice", clock=clock), TestDevice(server, "bob", clock=clock)
    conversation, event_id = new_conversation_id(), new_event_id()
    envelope = alice.send(conversation, ["bob"], {"type": "m.text", "body": "you will regret"})
    bob.refresh(["alice"])
    bob.receive()
    result = bob.decrypt(conversation, event_id, envelope)
    assert isinstance(result, Decrypted)
    return envelope, result


def test_commitment_opens_for_the_genuine_message(
    delivered: tuple[dict[str, object], Decrypted],
) -> None:
    envelope, result = delivered
    commitment = b64(str(envelope["franking_commitment"]))
    assert result.message == canonical_json({"type": "m.text", "body": "you will regret"})
    assert franking.opens(result.franking_key, result.message, commitment)


def test_commitment_fails_for_any_mutation_of_message_or_key(
    delivered: tuple[dict[str, object], Decrypted],
) -> None:
    envelope, result = delivered
    commitment = b64(str(envelope["franking_commitment"]))
    for i in range(len(result.message)):
        mutated = bytearray(result.message)
        mutated[i] ^= 0x01
        assert not franking.opens(result.franking_key, bytes(mutated), commitment)
    assert not franking.opens(result.franking_key, result.message + b" ", commitment)
    assert not franking.opens(result.franking_key, result.message[:-1], commitment)
    wrong_key = bytearray(result.franking_key)
    wrong_key[0] ^= 0x80
    assert not franking.opens(bytes(wrong_key), result.message, commitment)


def test_report_reveals_only_this_message_and_verifies_like_the_server(
    delivered: tuple[dict[str, object], Decrypted],
) -> None:
    envelope, result = delivered
    body = report_for(result)
    assert set(body) == {"event_id", "message", "franking_key"}
    assert body["event_id"] == result.event_id
    assert b64(body["message"]) == result.message
    assert report_opens(body, envelope)

    # What the server does with it: recompute the commitment, then its own tag.
    secret = os.urandom(32)
    commitment = b64(str(envelope["franking_commitment"]))
    context = franking.FrankingContext(
        new_conversation_id(), new_account_id(), new_device_id(), result.event_id, 42, 1_700_000
    )
    tag = franking.server_tag(secret, commitment, context)
    reported_m, reported_fk = b64(body["message"]), b64(body["franking_key"])
    assert franking.opens(reported_fk, reported_m, commitment)
    assert franking.tag_matches(secret, commitment, context, tag)


def test_doctored_report_does_not_open(delivered: tuple[dict[str, object], Decrypted]) -> None:
    envelope, result = delivered
    forged_m = canonical_json({"type": "m.text", "body": "something worse"})
    assert not report_opens(report_body(result.event_id, forged_m, result.franking_key), envelope)
    assert not report_opens({"message": "!!", "franking_key": "x"}, envelope)


def test_each_message_gets_a_fresh_franking_key(server: FakeServer) -> None:
    alice = TestDevice(server, "alice")
    conversation = new_conversation_id()
    alice.megolm.prepare(conversation, [])
    first = alice.megolm.encrypt(conversation, {"body": "same"})
    second = alice.megolm.encrypt(conversation, {"body": "same"})
    assert first.franking_key != second.franking_key
    assert first.envelope["franking_commitment"] != second.envelope["franking_commitment"]
    assert first.message == second.message == canonical_json({"body": "same"})
