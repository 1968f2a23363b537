"""Identifiers: random typed ids, stream tokens and history cursors.

Ids are 128 random bits written as a one-letter kind, an underscore and 26
lower-case base32 characters (``c_k3v…``): unguessable, fixed length (the
franking context of DESIGN §4 needs fixed-length fields) and self-describing
in logs. Stream tokens are opaque to clients; today they wrap one stream
position (``s1234``). Page cursors (feeds, lists) are opaque too: base64url JSON.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from typing import Any, Literal, NewType

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kabar.errors import ErrorCode, InvalidRequest

AccountId = NewType("AccountId", str)
DeviceId = NewType("DeviceId", str)
ConversationId = NewType("ConversationId", str)
EventId = NewType("EventId", str)

# a account, d device, c conversation, e event, b blob, p public account, r article,
# m media, n comment, g authority request, h hash list, u upload match; moderation: k case,
# w report, t note, x action, y notice, z appeal
IdKind = Literal[
    "a", "d", "c", "e", "b", "p", "r", "m", "n", "g", "h", "u", "k", "w", "t", "x", "y", "z"
]
_ID_LENGTH = 2 + 26
_ID_BODY = re.compile(r"[a-zA-Z2-7]{26}")  # base32 (id_bytes upper-cases it first)


def new_id(kind: IdKind) -> str:
    body = base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()
    return f"{kind}_{body}"


def new_account_id() -> AccountId:
    return AccountId(new_id("a"))


def new_device_id() -> DeviceId:
    return DeviceId(new_id("d"))


def new_conversation_id() -> ConversationId:
    return ConversationId(new_id("c"))


def new_event_id() -> EventId:
    return EventId(new_id("e"))


def id_bytes(value: str) -> bytes:
    """The 16 raw bytes behind an id, for fixed-length encodings."""
    if len(value) != _ID_LENGTH or value[1] != "_":
        raise InvalidRequest(f"{value!r} is not a kabar id")
    try:
        return base64.b32decode(value[2:].upper() + "======")
    except ValueError as exc:
        raise InvalidRequest(f"{value!r} is not a kabar id") from exc


def looks_like_id(value: str, kind: IdKind) -> bool:
    """Whether ``value`` is shaped like an id of ``kind`` (what :func:`id_bytes` decodes),
    checked without decoding it: this runs on nearly every request."""
    return (
        len(value) == _ID_LENGTH
        and value.startswith(kind)
        and value[1] == "_"
        and _ID_BODY.fullmatch(value, 2) is not None
    )


def encode_token(position: int) -> str:
    return f"s{position}"


def decode_token(token: str | None) -> int | None:
    """Parse a sync token; ``None`` or ``""`` means "from the start"."""
    if not token:
        return None
    if token[0] == "s" and token[1:].isdigit() and len(token) < 20:
        return int(token[1:])
    raise InvalidRequest(f"sync token {token!r} is malformed", code=ErrorCode.INVALID_TOKEN)


class EventIdCodec:
    """Event ids are stream positions encrypted with AES-256 under a server key.

    One AES block is a pseudo-random permutation of 128-bit values, so ids look
    random (they reveal neither order nor volume) yet map back to a position
    without an index. The key is a server secret shared by every node.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the event id key is 32 bytes")
        cipher = Cipher(algorithms.AES256(key), modes.ECB())  # one block: a PRP, not a mode
        self._cipher = cipher
        # ECB contexts keep no state between blocks, so one per thread is reused for every id.
        self._local = threading.local()

    def encode(self, position: int) -> EventId:
        encryptor = getattr(self._local, "encryptor", None)
        if encryptor is None:
            encryptor = self._local.encryptor = self._cipher.encryptor()
        block = encryptor.update(position.to_bytes(16, "big"))
        return EventId("e_" + base64.b32encode(block).decode().rstrip("=").lower())

    def decode(self, event_id: str) -> int | None:
        """The position behind ``event_id``, or ``None`` if it is not one of ours."""
        if not looks_like_id(event_id, "e"):
            return None
        decryptor = self._cipher.decryptor()
        block = decryptor.update(id_bytes(event_id)) + decryptor.finalize()
        # Positions are far below 2**63; anything else is a forged or foreign id.
        value = int.from_bytes(block, "big")
        return value if 0 < value < 2**63 else None


def encode_cursor(*parts: int | str) -> str:
    """An opaque page cursor holding ``parts`` (positions, times, ids)."""
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *shape: type) -> tuple[Any, ...] | None:
    """The parts of a cursor made by :func:`encode_cursor`, checked against ``shape``.

    ``None`` or ``""`` means "the first page"; anything malformed is 400 ``invalid_cursor``.
    """
    if not cursor:
        return None
    try:
        if len(cursor) > 200:
            raise ValueError("too long")
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != len(shape):
            raise ValueError("wrong shape")
        if not all(type(p) is kind for p, kind in zip(parts, shape, strict=True)):
            raise ValueError("wrong types")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            "the cursor is malformed; use next_cursor from a previous page",
            code=ErrorCode.INVALID_CURSOR,
        ) from exc
    return tuple(parts)
