from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kabar.client.crypto.errors import StoreError, WrongPassphrase
from kabar.client.crypto.megolm import Decrypted, DecryptionFailure, FailureReason
from kabar.client.crypto.testing import FakeServer, TestDevice
from kabar.client.store import DeviceStore, HistoryEntry
from kabar.client.vault import KdfParams
from kabar.ids import new_conversation_id, new_device_id, new_event_id

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "device.db"


def create(path: Path, username: str = "alice") -> DeviceStore:
    return DeviceStore.create(
        path, PASSPHRASE, username=username, device_id=new_device_id(), kdf=CHEAP
    )


def raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_reopen_with_the_passphrase_and_refuse_a_wrong_one(path: Path) -> None:
    store = create(path)
    device_id = store.device_id
    store.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(WrongPassphrase):
        DeviceStore.open(path, "wrong horse")
    with DeviceStore.open(path, PASSPHRASE) as reopened:
        assert (reopened.username, reopened.device_id) == ("alice", device_id)


def test_change_passphrase(path: Path) -> None:
    with create(path) as store:
        store.set_setting("theme", "dark")
        with pytest.raises(WrongPassphrase):
            store.change_passphrase("not it", "new one")
        store.change_passphrase(PASSPHRASE, "new one", CHEAP)
    with pytest.raises(WrongPassphrase):
        DeviceStore.open(path, PASSPHRASE)
    with DeviceStore.open(path, "new one") as store:
        assert store.get_setting("theme") == "dark"


def test_create_never_overwrites_and_open_needs_a_store(path: Path, tmp_path: Path) -> None:
    create(path).close()
    with pytest.raises(StoreError):
        create(path)
    with pytest.raises(StoreError):
        DeviceStore.open(tmp_path / "missing.db", PASSPHRASE)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        DeviceStore.open(junk, PASSPHRASE)


def test_crypto_state_survives_a_restart(path: Path) -> None:
    server, conversation = FakeServer(), new_conversation_id()
    store = create(path)
    alice = TestDevice(server, "alice", device_id=store.device_id)
    bob = TestDevice(server, "bob")
    members = ["alice", "bob"]
    first = alice.send(conversation, members, {"body": "hi bob"})
    bob.refresh(["alice"])
    bob.receive()
    reply_id, reply = new_event_id(), bob.send(conversation, members, {"body": "hi alice"})
    alice.refresh(["bob"])
    alice.receive()
    assert isinstance(alice.decrypt(conversation, reply_id, reply), Decrypted)
    alice.save(store)
    store.close()

    store = DeviceStore.open(path, PASSPHRASE)
    restarted = TestDevice.from_store(server, store)
    assert restarted.keys == alice.keys
    later = bob.send(conversation, members, {"body": "still there?"})
    assert server.inboxes == {}  # Bob reuses his session: nothing new to share
    result = restarted.decrypt(conversation, new_event_id(), later)
    assert isinstance(result, Decrypted)
    assert result.content == {"body": "still there?"}
    replayed = restarted.decrypt(conversation, new_event_id(), reply)
    assert isinstance(replayed, DecryptionFailure)
    assert replayed.reason == FailureReason.REPLAYED_INDEX
    bob.send_to_device({"type": "test.ping"}, [restarted.keys])
    assert [m.type for m in restarted.receive()] == ["test.ping"]
    again = restarted.send(conversation, members, {"body": "yes"})
    assert again["session_id"] == first["session_id"]
    assert isinstance(bob.decrypt(conversation, new_event_id(), again), Decrypted)
    store.close()


def entry(conversation: str, body: str, ts: int) -> HistoryEntry:
    return HistoryEntry(conversation, new_event_id(), "bob", ts, {"type": "m.text", "body": body})


def test_search_finds_words_in_decrypted_history(path: Path) -> None:
    conversation, other = new_conversation_id(), new_conversation_id()
    with create(path) as store:
        lunch = entry(conversation, "Shall we have lunch at the harbour café?", 1)
        store.add_message(lunch)
        store.add_message(entry(conversation, "The harbour is closed today", 2))
        store.add_message(entry(other, "Dinner plans instead", 3))
        assert not store.add_message(lunch)  # the same event twice is stored once

        hits = store.search("lunch")
        assert [(h.conversation_id, h.event_id) for h in hits] == [(conversation, lunch.event_id)]
        assert "lunch" in hits[0].snippet
        assert len(store.search("harbour")) == 2
        assert [h.event_id for h in store.search("harb lunch")] == [lunch.event_id]
        assert store.search("cafe")[0].event_id == lunch.event_id  # diacritics folded
        assert store.search("DINNER")[0].conversation_id == other
        assert store.search("nothing-like-this") == []
        assert store.search('" OR * ') == []


def test_history_keeps_franking_material_and_deletes_cleanly(path: Path) -> None:
    conversation = new_conversation_id()
    fk = os.urandom(32)
    message = HistoryEntry(
        conversation, new_event_id(), "bob", 5, {"body": "report me"}, b'{"body":"report me"}', fk
    )
    with create(path) as store:
        store.add_message(entry(conversation, "earlier", 1))
        store.add_message(message)
        assert store.message(message.event_id) == message
        assert [m.content["body"] for m in store.history(conversation)] == ["earlier", "report me"]
        assert store.delete_message(message.event_id)
        assert store.search("report") == []
        assert store.message(message.event_id) is None
        assert not store.delete_message(message.event_id)


def test_store_file_holds_no_plaintext_secrets(path: Path) -> None:
    server, conversation = FakeServer(), new_conversation_id()
    store = create(path)
    alice = TestDevice(server, "alice", device_id=store.device_id)
    bob = TestDevice(server, "bob")
    alice.send(conversation, ["alice", "bob"], {"body": "x"})
    room_key = alice.megolm.room_key(conversation)["session_key"]
    [export] = alice.megolm.inbound.exports()
    fk = os.urandom(32)
    sentence = "the eagle lands at midnight behind the old mill"
    history = HistoryEntry(conversation, new_event_id(), "bob", 1, {"body": sentence}, b"", fk)
    store.add_message(history)
    store.set_setting("recovery_hint", "SECRET-SETTING-VALUE")
    alice.save(store)
    bob.refresh(["alice"])
    raw = raw_bytes(path)
    store.close()
    raw += raw_bytes(path)
    with DeviceStore.open(path, PASSPHRASE) as reopened:
        saved = reopened.load_crypto()
    pickles = [saved.account or "", *(r.pickle for r in saved.olm_sessions)]
    pickles += [r.pickle for r in saved.outbound] + [r.pickle for r in saved.inbound]
    assert len(pickles) == 4

    secrets = [
        PASSPHRASE.encode(),
        store.pickle_key,
        fk,
        room_key.encode(),
        room_key[:32].encode(),
        export.session_key[:32].encode(),
        *(p[:32].encode() for p in pickles),
        sentence.encode(),
        b"SECRET-SETTING-VALUE",
        alice.identity.ed25519.encode(),  # public, but who we talk to is nobody else's business
    ]
    for secret in secrets:
        assert secret not in raw, secret


def test_directory_round_trips_and_forgets_removed_devices(path: Path) -> None:
    server = FakeServer()
    alice, bob1, bob2 = (TestDevice(server, n) for n in ("alice", "bob", "bob"))
    alice.refresh(["bob"])
    alice.directory.mark_verified("bob", [bob1.device_id])
    with create(path) as store:
        store.save_devices(alice.directory.entries())
        assert store.load_devices() == alice.directory.entries()
        server.remove_device(bob2.address)
        alice.refresh(["bob"])
        store.save_devices(alice.directory.entries())
        [only] = store.load_devices()
    assert only.keys == bob1.keys
    assert only.verified
