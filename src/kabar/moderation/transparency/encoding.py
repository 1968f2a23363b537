"""How the transparency log writes bytes inside JSON: standard base64, unpadded.

Unpadded standard base64 is what the rest of kabar's protocol uses (as
vodozemac writes keys). Decoding is strict — only the one canonical spelling
of a value is accepted — so a hash or signature has a single JSON form.
"""

from __future__ import annotations

import base64
import binascii

from kabar.errors import InvalidRequest


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64decode(text: object, *, field: str, length: int | None = None) -> bytes:
    """Decode ``text`` (the JSON value of ``field``); refuse anything non-canonical."""
    if not isinstance(text, str):
        raise InvalidRequest(f"{field} must be a base64 string")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"{field} is not valid base64") from exc
    if b64encode(data) != text:
        raise InvalidRequest(f"{field} is not canonical unpadded base64")
    if length is not None and len(data) != length:
        raise InvalidRequest(f"{field} must be {length} bytes, not {len(data)}")
    return data
