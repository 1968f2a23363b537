from __future__ import annotations

import base64

import pytest

from kabar.client.crypto.backup import BackupVersion, KeyBackup, RecoveryKey
from kabar.client.crypto.errors import BackupCorrupt, InvalidRecoveryKey, WrongRecoveryKey
from kabar.client.crypto.megolm import Decrypted
from kabar.client.crypto.testing import FakeServer, TestDevice
from kabar.ids import new_conversation_id, new_event_id

FIXED = RecoveryKey(bytes(range(32)))


def test_recovery_key_reads_back_from_its_display_form() -> None:
    key = RecoveryKey.generate()
    shown = key.display()
    groups = shown.split(" ")
    assert len(groups) == 14
    assert all(len(g) == 4 for g in groups)
    assert RecoveryKey.parse(shown).raw == key.raw
    assert RecoveryKey.parse(shown.lower().replace(" ", "-")).raw == key.raw


def test_ambiguous_letters_are_read_as_digits() -> None:
    shown = FIXED.display()
    lookalike = shown.replace("0", "O").replace("1", "l")
    assert lookalike != shown
    assert RecoveryKey.parse(lookalike).raw == FIXED.raw


def test_every_single_character_typo_is_detected() -> None:
    shown = FIXED.display().replace(" ", "")
    for i, char in enumerate(shown):
        typo = shown[:i] + ("A" if char != "A" else "B") + shown[i + 1 :]
        with pytest.raises(InvalidRecoveryKey):
            RecoveryKey.parse(typo)
    with pytest.raises(InvalidRecoveryKey):
        RecoveryKey.parse(shown[:-1])
    with pytest.raises(InvalidRecoveryKey):
        RecoveryKey.parse(shown[:-1] + "U")


def test_wrong_recovery_key_is_told_apart_by_the_version_record() -> None:
    backup = KeyBackup.create(RecoveryKey.generate())
    record = backup.version.to_json()
    assert set(record) == {"algorithm", "salt", "key_check"}
    with pytest.raises(WrongRecoveryKey):
        KeyBackup.open(RecoveryKey.generate(), BackupVersion.from_json(record))


def test_backup_restores_history_on_a_brand_new_device(server: FakeServer) -> None:
    alice1, bob = TestDevice(server, "alice"), TestDevice(server, "bob")
    conversation = new_conversation_id()
    events = [
        (new_event_id(), bob.send(conversation, ["alice", "bob"], {"body": f"m{i}"}))
        for i in range(3)
    ]
    events.append((new_event_id(), alice1.send(conversation, ["alice", "bob"], {"body": "me"})))
    alice1.refresh(["bob"])
    alice1.receive()

    recovery = RecoveryKey.generate()
    backup = KeyBackup.create(recovery)
    exports = alice1.megolm.inbound.exports()
    stored = {(e.conversation_id, e.session_id): backup.encrypt_session(e) for e in exports}
    assert len(stored) == 2
    for export in exports:  # the server never sees a session key
        assert all(export.session_key[:24] not in str(blob) for blob in stored.values())

    # A new device, knowing only what the user typed and what the server stored.
    alice3 = TestDevice(server, "alice")
    restored = KeyBackup.open(RecoveryKey.parse(recovery.display()), backup.version)
    for (conversation_id, session_id), blob in stored.items():
        alice3.megolm.import_session(restored.decrypt_session(conversation_id, session_id, blob))
    bodies = []
    for event_id, envelope in events:
        result = alice3.decrypt(conversation, event_id, envelope)
        assert isinstance(result, Decrypted)
        assert result.forwarded
        bodies.append(result.content["body"])
    assert bodies == ["m0", "m1", "m2", "me"]


def test_blob_filed_under_another_session_is_rejected(server: FakeServer) -> None:
    alice = TestDevice(server, "alice")
    first, second = new_conversation_id(), new_conversation_id()
    alice.megolm.prepare(first, [])
    alice.megolm.prepare(second, [])
    a, b = alice.megolm.inbound.exports()
    backup = KeyBackup.create(FIXED)
    with pytest.raises(BackupCorrupt):
        backup.decrypt_session(b.conversation_id, b.session_id, backup.encrypt_session(a))
    tampered = backup.encrypt_session(a)
    raw = bytearray(base64.b64decode(tampered["ciphertext"] + "=="))
    raw[0] ^= 1
    tampered["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(BackupCorrupt):
        backup.decrypt_session(a.conversation_id, a.session_id, tampered)
