"""Base64 as kabar writes it: standard alphabet, unpadded (as vodozemac writes keys).

Decoding accepts padded input too, so a peer that pads is still understood.
"""

from __future__ import annotations

import base64
import binascii

from kabar.client.crypto.errors import MalformedPayload


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def b64decode(text: object, *, length: int | None = None) -> bytes:
    """Decode ``text``; raise :class:`MalformedPayload` if it is not base64 (of ``length``)."""
    if not isinstance(text, str):
        raise MalformedPayload("expected a base64 string")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedPayload("invalid base64") from exc
    if length is not None and len(data) != length:
        raise MalformedPayload(f"expected {length} bytes, got {len(data)}")
    return data
