"""Attachment encryption: each file under its own fresh AES-256-GCM key and nonce.

The server stores only the ciphertext blob. The descriptor goes inside the
message content, so the key never leaves the Megolm-encrypted plaintext, and
the plaintext SHA-256 inside ``M`` is what franking commits to (DESIGN §4;
there is deliberately no per-ciphertext deduplication)::

    {"key": <b64>, "nonce": <b64>, "sha256": <hex of plaintext>, "size", "name", "mime"}

The SDK adds the blob's server id to the descriptor after uploading.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kabar.client.crypto.encoding import b64decode, b64encode
from kabar.client.crypto.errors import AttachmentTampered, MalformedPayload

KEY_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class AttachmentDescriptor:
    key: bytes
    nonce: bytes
    sha256: str
    size: int
    name: str
    mime: str

    def to_json(self) -> dict[str, Any]:
        return {
            "key": b64encode(self.key),
            "nonce": b64encode(self.nonce),
            "sha256": self.sha256,
            "size": self.size,
            "name": self.name,
            "mime": self.mime,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttachmentDescriptor:
        size, digest = data.get("size"), data.get("sha256")
        name, mime = data.get("name", ""), data.get("mime", "application/octet-stream")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise MalformedPayload("attachment size must be a non-negative integer")
        if not isinstance(digest, str) or len(digest) != 64:
            raise MalformedPayload("attachment sha256 must be 64 hex characters")
        if not isinstance(name, str) or not isinstance(mime, str):
            raise MalformedPayload("attachment name and mime must be strings")
        key = b64decode(data.get("key"), length=KEY_BYTES)
        nonce = b64decode(data.get("nonce"), length=NONCE_BYTES)
        return cls(key, nonce, digest.lower(), size, name, mime)


def encrypt_attachment(
    data: bytes, *, name: str, mime: str = "application/octet-stream"
) -> tuple[bytes, AttachmentDescriptor]:
    """Return ``(ciphertext to upload, descriptor to put in the message)``."""
    key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, data, None)
    digest = hashlib.sha256(data).hexdigest()
    return ciphertext, AttachmentDescriptor(key, nonce, digest, len(data), name, mime)


def decrypt_attachment(ciphertext: bytes, descriptor: AttachmentDescriptor) -> bytes:
    """Decrypt and check size and hash; raise :class:`AttachmentTampered` on any mismatch."""
    try:
        data = AESGCM(descriptor.key).decrypt(descriptor.nonce, ciphertext, None)
    except InvalidTag as exc:
        raise AttachmentTampered("attachment ciphertext fails authentication") from exc
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != descriptor.size or not hmac.compare_digest(digest, descriptor.sha256):
        raise AttachmentTampered("attachment does not match its descriptor")
    return data
