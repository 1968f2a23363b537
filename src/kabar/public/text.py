"""Checking text people type into public places: names, bios, titles, comments.

Every such field is refused (400, naming the field) rather than silently
repaired when it is too long, or holds characters no database column can
store faithfully: NUL (PostgreSQL text refuses it) and lone surrogates (which
JSON ``\\ud800`` escapes can smuggle in, and which have no UTF-8 form).
"""

from __future__ import annotations

import re

from kabar.errors import ErrorCode, InvalidRequest

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]")


def checked_text(
    value: str,
    *,
    field: str,
    max_chars: int,
    min_chars: int = 0,
    single_line: bool = False,
    code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> str:
    """``value`` with surrounding whitespace removed, or :class:`InvalidRequest`."""
    if _UNSTORABLE.search(value):
        raise InvalidRequest(
            f"{field} contains characters that cannot be stored", code=code, data={"field": field}
        )
    if single_line and _LINE_BREAK.search(value):
        raise InvalidRequest(f"{field} must be one line", code=code, data={"field": field})
    text = value.strip()
    if not min_chars <= len(text) <= max_chars:
        raise InvalidRequest(
            f"{field} must be {min_chars} to {max_chars} characters",
            code=code,
            data={"field": field},
        )
    return text


def storable(value: str, *, field: str) -> str:
    """``value`` unchanged (Markdown is signed byte for byte) if a database can store it."""
    if "\x00" in value:
        raise InvalidRequest(
            f"{field} contains a NUL character",
            code=ErrorCode.INVALID_REQUEST,
            data={"field": field},
        )
    return value
