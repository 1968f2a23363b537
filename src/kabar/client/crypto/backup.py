"""Server-side key backup, encrypted to a recovery key only the user holds (DESIGN §4).

**Recovery key**: 32 random bytes, shown once as 56 Crockford base32 characters
in 14 groups of 4. The text encodes the key plus a 3-byte checksum (SHA-256 of
a label and the key), so a typo is reported as :class:`InvalidRecoveryKey`
before anything is tried; reading is forgiving (case, spaces, hyphens, O/0,
I/L/1).

**Version record** (public, stored on the server)::

    {"algorithm": "kabar.backup.v1", "salt": <b64 16 bytes>, "key_check": <b64 32 bytes>}

HKDF-SHA256(recovery key, salt) gives a 32-byte AES key and a 32-byte check
key; ``key_check = HMAC-SHA256(check key, "kabar.backup.v1 key check")`` lets a
client reject a wrong recovery key (:class:`WrongRecoveryKey`) without
touching any session. The server cannot use it to test guesses: the key has
256 random bits.

**Session blob** (one per Megolm session)::

    {"algorithm": "kabar.backup.v1", "nonce": <b64 12 bytes>, "ciphertext": <b64>}

AES-256-GCM of the canonical JSON of the session export; the associated data
binds the conversation and session ids, so the server cannot file one
session's blob under another's name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kabar.client.crypto.encoding import b64decode, b64encode
from kabar.client.crypto.errors import (
    BackupCorrupt,
    InvalidRecoveryKey,
    MalformedPayload,
    WrongRecoveryKey,
)
from kabar.client.crypto.inbound import ExportedSession
from kabar.protocol.canonical import canonical_json

ALGORITHM = "kabar.backup.v1"
KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12
_CHECKSUM_BYTES = 3
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_READ_AS = {"O": "0", "I": "1", "L": "1"}
_KEY_CHECK_LABEL = b"kabar.backup.v1 key check"


class RecoveryKey:
    """The user's 256-bit backup secret and its readable form."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != KEY_BYTES:
            raise InvalidRecoveryKey("a recovery key is 32 bytes")
        self.raw = raw

    @classmethod
    def generate(cls) -> RecoveryKey:
        return cls(os.urandom(KEY_BYTES))

    @classmethod
    def parse(cls, text: str) -> RecoveryKey:
        """Read a key the user typed; raise :class:`InvalidRecoveryKey` on any typo."""
        chars = [_READ_AS.get(c, c) for c in text.upper() if c not in " -\t\n"]
        if len(chars) != 56 or any(c not in _ALPHABET for c in chars):
            raise InvalidRecoveryKey("a recovery key is 56 characters of 0-9 and A-Z")
        number = 0
        for char in chars:
            number = number * 32 + _ALPHABET.index(char)
        data = number.to_bytes(KEY_BYTES + _CHECKSUM_BYTES, "big")
        raw, checksum = data[:KEY_BYTES], data[KEY_BYTES:]
        if not hmac.compare_digest(checksum, _checksum(raw)):
            raise InvalidRecoveryKey("the recovery key has a typo (checksum mismatch)")
        return cls(raw)

    def display(self) -> str:
        """56 characters in 14 groups of 4, e.g. ``7G2K QX0M …``."""
        number = int.from_bytes(self.raw + _checksum(self.raw), "big")
        chars = [_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(56))]
        return " ".join("".join(chars[i : i + 4]) for i in range(0, 56, 4))


def _checksum(raw: bytes) -> bytes:
    return hashlib.sha256(b"kabar.recovery.v1" + raw).digest()[:_CHECKSUM_BYTES]


@dataclass(frozen=True, slots=True)
class BackupVersion:
    salt: bytes
    key_check: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "algorithm": ALGORITHM,
            "salt": b64encode(self.salt),
            "key_check": b64encode(self.key_check),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BackupVersion:
        if data.get("algorithm") != ALGORITHM:
            raise MalformedPayload(f"not a {ALGORITHM} backup")
        return cls(
            b64decode(data.get("salt"), length=SALT_BYTES),
            b64decode(data.get("key_check"), length=32),
        )


class KeyBackup:
    """Encrypts session exports for the server and decrypts them on restore."""

    def __init__(self, recovery_key: RecoveryKey, salt: bytes) -> None:
        keys = HKDF(hashes.SHA256(), length=64, salt=salt, info=ALGORITHM.encode()).derive(
            recovery_key.raw
        )
        self._aes = AESGCM(keys[:32])
        check = hmac.new(keys[32:], _KEY_CHECK_LABEL, hashlib.sha256).digest()
        self.version = BackupVersion(salt, check)

    @classmethod
    def create(cls, recovery_key: RecoveryKey) -> KeyBackup:
        """A new backup version (fresh salt) under this recovery key."""
        return cls(recovery_key, os.urandom(SALT_BYTES))

    @classmethod
    def open(cls, recovery_key: RecoveryKey, version: BackupVersion) -> KeyBackup:
        """Open an existing backup; raise :class:`WrongRecoveryKey` if the check fails."""
        backup = cls(recovery_key, version.salt)
        if not hmac.compare_digest(backup.version.key_check, version.key_check):
            raise WrongRecoveryKey("this recovery key does not open this backup")
        return backup

    def encrypt_session(self, export: ExportedSession) -> dict[str, str]:
        nonce = os.urandom(NONCE_BYTES)
        plaintext = canonical_json(export.to_json())
        aad = _aad(export.conversation_id, export.session_id)
        return {
            "algorithm": ALGORITHM,
            "nonce": b64encode(nonce),
            "ciphertext": b64encode(self._aes.encrypt(nonce, plaintext, aad)),
        }

    def decrypt_session(
        self, conversation_id: str, session_id: str, blob: Mapping[str, Any]
    ) -> ExportedSession:
        """Restore one session filed under ``(conversation_id, session_id)``."""
        if blob.get("algorithm") != ALGORITHM:
            raise MalformedPayload(f"not a {ALGORITHM} blob")
        nonce = b64decode(blob.get("nonce"), length=NONCE_BYTES)
        ciphertext = b64decode(blob.get("ciphertext"))
        try:
            plaintext = self._aes.decrypt(nonce, ciphertext, _aad(conversation_id, session_id))
        except InvalidTag as exc:
            raise BackupCorrupt(f"backup of session {session_id} fails authentication") from exc
        return ExportedSession.from_json(json.loads(plaintext))


def _aad(conversation_id: str, session_id: str) -> bytes:
    return canonical_json(
        {"algorithm": ALGORITHM, "conversation_id": conversation_id, "session_id": session_id}
    )
