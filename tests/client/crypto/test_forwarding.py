from __future__ import annotations

from typing import Any

import pytest

from kabar.client.crypto.forwarding import FORWARDED_KEY, KEY_REQUEST, KeyRequest
from kabar.client.crypto.megolm import Decrypted, DecryptionFailure, FailureReason
from kabar.client.crypto.testing import FakeServer, TestDevice
from kabar.ids import new_conversation_id, new_event_id

Event = tuple[str, dict[str, Any]]


class Chat:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.conversation = new_conversation_id()
        self.alice1 = TestDevice(server, "alice")
        self.bob = TestDevice(server, "bob")
        self.old: list[Event] = [self.bob_says(f"old {i}") for i in range(3)]
        self.sync(self.alice1)

    def bob_says(self, body: str) -> Event:
        envelope = self.bob.send(self.conversation, ["alice", "bob"], {"body": body})
        return new_event_id(), envelope

    def sync(self, *devices: TestDevice) -> None:
        for device in devices:
            device.refresh(["alice", "bob"])
            device.receive()

    def new_alice_device(self, *, verify: bool = True) -> TestDevice:
        alice2 = TestDevice(self.server, "alice")
        self.sync(self.alice1, alice2)
        if verify:  # both devices verified each other (e.g. by comparing keys)
            self.alice1.directory.mark_verified("alice", [alice2.device_id])
            alice2.directory.mark_verified("alice", [self.alice1.device_id])
        return alice2

    def missing(self, device: TestDevice) -> DecryptionFailure:
        event_id, envelope = self.old[0]
        result = device.decrypt(self.conversation, event_id, envelope)
        assert isinstance(result, DecryptionFailure)
        return result

    def ask(self, device: TestDevice) -> None:
        failure = self.missing(device)
        assert failure.session_id is not None
        assert failure.sender_key is not None
        device.request_key(self.conversation, failure.session_id, failure.sender_key)
        self.sync(self.alice1, self.bob)  # the others answer (or not)
        self.sync(device)  # the asker imports what came back


@pytest.fixture
def chat(server: FakeServer) -> Chat:
    return Chat(server)


def test_forwarded_key_lets_a_new_device_read_old_messages(chat: Chat) -> None:
    alice2 = chat.new_alice_device()
    assert chat.missing(alice2).reason == FailureReason.MISSING_SESSION
    chat.ask(alice2)
    for (event_id, envelope), n in zip(chat.old, range(3), strict=True):
        result = alice2.decrypt(chat.conversation, event_id, envelope)
        assert isinstance(result, Decrypted)
        assert result.content == {"body": f"old {n}"}
        assert result.forwarded
        assert result.sender_key == chat.bob.identity.curve25519


def test_request_and_answer_contents(chat: Chat) -> None:
    request = KeyRequest.new(chat.conversation, "sess", "curve")
    content = request.to_content()
    assert content["type"] == KEY_REQUEST
    assert KeyRequest.from_content(content) == request
    alice2 = chat.new_alice_device()
    failure = chat.missing(alice2)
    assert failure.session_id
    assert failure.sender_key
    alice2.request_key(chat.conversation, failure.session_id, failure.sender_key)
    chat.sync(chat.alice1)
    [answer] = alice2.receive()
    assert answer.type == FORWARDED_KEY
    assert answer.content["session_id"] == failure.session_id
    assert answer.content["first_known_index"] == 0


def test_unverified_own_device_gets_no_keys(chat: Chat) -> None:
    alice2 = chat.new_alice_device(verify=False)
    chat.ask(alice2)
    assert chat.missing(alice2).reason == FailureReason.MISSING_SESSION


def test_other_accounts_devices_never_get_keys(chat: Chat, server: FakeServer) -> None:
    mallory = TestDevice(server, "mallory")
    chat.alice1.refresh(["mallory"])
    chat.alice1.directory.mark_verified("mallory")
    mallory.refresh(["alice"])
    failure = chat.missing(mallory)
    assert failure.session_id
    assert failure.sender_key
    request = KeyRequest.new(chat.conversation, failure.session_id, failure.sender_key)
    mallory.send_to_device(request.to_content(), [chat.alice1.keys])
    chat.sync(chat.alice1)
    mallory.receive()
    assert chat.missing(mallory).reason == FailureReason.MISSING_SESSION


def test_forwarded_keys_from_other_accounts_are_ignored(chat: Chat) -> None:
    alice2 = chat.new_alice_device()
    alice2.directory.mark_verified("bob")
    failure = chat.missing(alice2)
    export = chat.bob.megolm.inbound.export(
        chat.conversation, str(failure.sender_key), str(failure.session_id)
    )
    assert export is not None
    chat.bob.send_to_device({"type": FORWARDED_KEY, **export.to_json()}, [alice2.keys])
    chat.sync(alice2)
    assert chat.missing(alice2).reason == FailureReason.MISSING_SESSION
