"""Signed tree heads and the log's Ed25519 signing key.

A tree head says "after ``tree_size`` entries the log's root was
``root_hash``", at ``timestamp_ms`` (Unix milliseconds), from log ``log_id``.
The log signs the canonical JSON of exactly these four fields::

    {"log_id":"<hex>","root_hash":"<base64>","timestamp_ms":1700000000000,"tree_size":42}

``log_id`` is the hex SHA-256 of the log public key's DER SubjectPublicKeyInfo
(the LogID of RFC 6962 §3.2), so a client that pins the key also pins the id.
The key signs tree heads and nothing else, which is what keeps a tree-head
signature from being replayed as a signature over anything else.

A signed tree head in JSON is the four fields plus ``"signature"`` (base64 of
the 64-byte Ed25519 signature).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kabar.errors import ErrorCode, InvalidRequest
from kabar.moderation.transparency.encoding import b64decode, b64encode
from kabar.moderation.transparency.merkle import HASH_SIZE
from kabar.protocol.canonical import canonical_json

SIGNATURE_SIZE = 64
KEY_SIZE = 32
_LOG_ID = re.compile(r"[0-9a-f]{64}")
_HEAD_FIELDS = {"tree_size", "root_hash", "timestamp_ms", "log_id"}


@dataclass(frozen=True, slots=True)
class TreeHead:
    """The unsigned statement: the log ``log_id`` had ``root_hash`` at ``tree_size``."""

    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    log_id: str

    def __post_init__(self) -> None:
        if not _is_count(self.tree_size):
            raise InvalidRequest("tree_size must be a non-negative integer")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise InvalidRequest("root_hash must be 32 bytes")
        if not _is_count(self.timestamp_ms):
            raise InvalidRequest("timestamp_ms must be a non-negative integer")
        if not isinstance(self.log_id, str) or not _LOG_ID.fullmatch(self.log_id):
            raise InvalidRequest("log_id must be 64 lower-case hex characters")

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": b64encode(self.root_hash),
            "timestamp_ms": self.timestamp_ms,
            "log_id": self.log_id,
        }

    def signing_bytes(self) -> bytes:
        """The exact bytes the log signs."""
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TreeHead:
        missing = _HEAD_FIELDS - set(data)
        if missing:
            raise InvalidRequest(f"tree head lacks {', '.join(sorted(missing))}")
        return cls(
            tree_size=data["tree_size"],
            root_hash=b64decode(data["root_hash"], field="root_hash", length=HASH_SIZE),
            timestamp_ms=data["timestamp_ms"],
            log_id=data["log_id"],
        )


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    head: TreeHead
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {**self.head.to_json(), "signature": b64encode(self.signature)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedTreeHead:
        if not isinstance(data, Mapping):
            raise InvalidRequest("a signed tree head must be a JSON object")
        unknown = set(data) - _HEAD_FIELDS - {"signature"}
        if unknown:
            raise InvalidRequest(
                f"signed tree head has unknown field(s) {', '.join(sorted(unknown))}"
            )
        if "signature" not in data:
            raise InvalidRequest("signed tree head lacks signature")
        signature = b64decode(data["signature"], field="signature", length=SIGNATURE_SIZE)
        return cls(TreeHead.from_json(data), signature)


class LogPublicKey:
    """The key anyone uses to check the log's tree heads."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key

    @classmethod
    def from_pem(cls, data: bytes) -> LogPublicKey:
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise _bad_key(f"not a PEM public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise _bad_key("the log public key must be an Ed25519 key")
        return cls(key)

    @classmethod
    def from_raw_base64(cls, text: str) -> LogPublicKey:
        raw = _decode_key(text, "log public key")
        return cls(Ed25519PublicKey.from_public_bytes(raw))

    def to_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def to_raw_base64(self) -> str:
        return b64encode(
            self._key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    @property
    def log_id(self) -> str:
        """Hex SHA-256 of the DER SubjectPublicKeyInfo: the key's fingerprint."""
        der = self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).hexdigest()

    def verify(self, sth: SignedTreeHead) -> bool:
        """True only if ``sth`` names this log and carries its valid signature."""
        if sth.head.log_id != self.log_id:
            return False
        try:
            self._key.verify(sth.signature, sth.head.signing_bytes())
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LogPublicKey) and other.log_id == self.log_id

    def __hash__(self) -> int:
        return hash(self.log_id)


class LogSigningKey:
    """The log's private key. Keep it out of the database: it signs every tree head."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> LogSigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> LogSigningKey:
        try:
            key = serialization.load_pem_private_key(data, password=password)
        except (ValueError, TypeError) as exc:
            raise _bad_key(f"not a PEM private key (or wrong password): {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise _bad_key("the log signing key must be an Ed25519 key")
        return cls(key)

    @classmethod
    def from_raw_base64(cls, text: str) -> LogSigningKey:
        return cls(Ed25519PrivateKey.from_private_bytes(_decode_key(text, "log signing key")))

    def to_pem(self, password: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def to_raw_base64(self) -> str:
        raw = self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return b64encode(raw)

    @property
    def public_key(self) -> LogPublicKey:
        return LogPublicKey(self._key.public_key())

    def sign(self, tree_size: int, root_hash: bytes, timestamp_ms: int) -> SignedTreeHead:
        head = TreeHead(tree_size, root_hash, timestamp_ms, self.public_key.log_id)
        return SignedTreeHead(head, self._key.sign(head.signing_bytes()))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key as PKCS#8 PEM, readable by its owner only.

        Refuses to overwrite an existing file: replacing the log key would leave
        every tree head signed so far unverifiable with the new one.
        """
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(self.to_pem())

    @classmethod
    def load(cls, path: str | os.PathLike[str], password: bytes | None = None) -> LogSigningKey:
        """Read a key file holding either PEM or the raw 32-byte key in base64."""
        data = Path(path).read_bytes()
        if data.lstrip().startswith(b"-----BEGIN"):
            return cls.from_pem(data, password)
        return cls.from_raw_base64(data.decode("ascii", errors="replace").strip())


def _decode_key(text: str, what: str) -> bytes:
    try:
        return b64decode(text, field=what, length=KEY_SIZE)
    except InvalidRequest as exc:
        raise _bad_key(exc.detail) from exc


def _bad_key(detail: str) -> InvalidRequest:
    return InvalidRequest(detail, code=ErrorCode.INVALID_KEY)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
