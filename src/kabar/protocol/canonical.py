"""Canonical JSON: the one byte form of a JSON value that gets signed or MACed.

Keys sorted, no insignificant whitespace, UTF-8 (not ``\\u`` escapes), as in
Matrix's canonical JSON. Floats are refused: their text form is not canonical.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise ValueError("canonical JSON has no floats")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)
