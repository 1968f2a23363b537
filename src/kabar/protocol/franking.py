"""Message franking (DESIGN §4), after Grubbs, Lu and Ristenpart (CRYPTO 2017).

The sender picks a fresh 256-bit franking key ``fk`` per message and sends the
commitment ``c = HMAC-SHA256(fk, M)`` in the clear beside the ciphertext, where
``M`` is the canonical JSON of the plaintext content. On commit the server
binds the commitment to where and when it was delivered:
``tag = HMAC-SHA256(server_secret, c ‖ context)`` with a fixed-length context.
A recipient shows a message only if ``HMAC(fk, M) == c``; to report, it reveals
``M`` and ``fk``; the server recomputes both MACs and learns nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from kabar.ids import id_bytes

KEY_BYTES = 32
COMMITMENT_BYTES = 32


def commit(franking_key: bytes, message: bytes) -> bytes:
    """The sender's commitment ``HMAC-SHA256(fk, M)``."""
    if len(franking_key) != KEY_BYTES:
        raise ValueError("a franking key is 32 bytes")
    return hmac.new(franking_key, message, hashlib.sha256).digest()


def opens(franking_key: bytes, message: bytes, commitment: bytes) -> bool:
    """True if ``commitment`` commits to exactly ``message`` under ``franking_key``."""
    if len(franking_key) != KEY_BYTES or len(commitment) != COMMITMENT_BYTES:
        return False
    return hmac.compare_digest(commit(franking_key, message), commitment)


@dataclass(frozen=True, slots=True)
class FrankingContext:
    """Where and when the server delivered a committed message."""

    conversation_id: str
    sender_account_id: str
    sender_device_id: str
    event_id: str
    position: int
    timestamp_ms: int

    def encode(self) -> bytes:
        """Fixed length (80 bytes): four 16-byte ids, then two big-endian uint64."""
        return (
            id_bytes(self.conversation_id)
            + id_bytes(self.sender_account_id)
            + id_bytes(self.sender_device_id)
            + id_bytes(self.event_id)
            + struct.pack(">QQ", self.position, self.timestamp_ms)
        )


def server_tag(server_secret: bytes, commitment: bytes, context: FrankingContext) -> bytes:
    """The server's binding ``HMAC-SHA256(server_secret, c ‖ context)``."""
    return hmac.new(server_secret, commitment + context.encode(), hashlib.sha256).digest()


def tag_matches(
    server_secret: bytes, commitment: bytes, context: FrankingContext, tag: bytes
) -> bool:
    return hmac.compare_digest(server_tag(server_secret, commitment, context), tag)
