"""Reading hash lists an operator imports: CSV with ``type,value,list,action``.

The format (see ``docs/moderation.md``)::

    type,value,list,action
    pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,ncmec-2025,open_case
    sha256,9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,known-spam,auto_remove

* The first line is the header: the four column names, in any order.
* ``type`` is ``pdq`` or ``sha256``; ``value`` is 64 hex characters for both
  (PDQ's 256 bits or SHA-256's 32 bytes; upper case is accepted and folded).
* ``list`` names where the hash came from; ``action`` is ``open_case`` or
  ``auto_remove``.
* Blank lines and lines starting with ``#`` are ignored; the file is UTF-8.

:func:`parse_hash_list` is a generator over the file's lines, so a list of
millions of rows is never held in memory. Each item it yields is either a
:class:`HashListRow` or a :class:`HashListError`, both carrying the line
number and the byte offset reached, so a caller can import good rows, report
every bad line, and drive a progress bar against the file's size.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kabar.errors import InvalidRequest
from kabar.moderation.hashing import HASH_HEX, HashAction, HashType, ListedHash

COLUMNS = ("type", "value", "list", "action")
_TYPES: dict[str, HashType] = {"pdq": "pdq", "sha256": "sha256"}
_ACTIONS: dict[str, HashAction] = {"open_case": "open_case", "auto_remove": "auto_remove"}
LINE_MAX = 4096


@dataclass(frozen=True, slots=True)
class HashListRow:
    line: int
    offset: int  # bytes of the file consumed through this line
    hash: ListedHash


@dataclass(frozen=True, slots=True)
class HashListError:
    line: int
    offset: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def parse_hash_list(lines: Iterable[bytes]) -> Iterator[HashListRow | HashListError]:
    """Parse a CSV hash list line by line (pass a file opened in binary mode).

    A bad header is reported once and ends the parse, since no row can be
    read without it; a bad row is reported and the parse goes on.
    """
    order: tuple[int, ...] | None = None
    offset = 0
    for number, raw in enumerate(lines, start=1):
        offset += len(raw)
        try:
            fields = _fields(raw, first=number == 1)
        except InvalidRequest as exc:
            yield HashListError(number, offset, exc.detail)
            if order is None:
                return
            continue
        if fields is None:
            continue
        if order is None:
            try:
                order = _header(fields)
            except InvalidRequest as exc:
                yield HashListError(number, offset, exc.detail)
                return
            continue
        try:
            yield HashListRow(number, offset, _row(fields, order))
        except InvalidRequest as exc:
            yield HashListError(number, offset, exc.detail)


def _fields(raw: bytes, *, first: bool) -> list[str] | None:
    if len(raw) > LINE_MAX:
        raise InvalidRequest(f"line is {len(raw)} bytes long; the limit is {LINE_MAX}")
    try:
        text = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    text = text.rstrip("\r\n")
    if not text.strip() or text.lstrip().startswith("#"):
        return None
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise InvalidRequest(f"not valid CSV: {exc}") from exc


def _header(fields: list[str]) -> tuple[int, ...]:
    names = [name.strip().lower() for name in fields]
    if sorted(names) != sorted(COLUMNS):
        raise InvalidRequest(
            f"the first line must be the header {','.join(COLUMNS)} (any order), "
            f"not {','.join(fields)[:120]}"
        )
    return tuple(names.index(column) for column in COLUMNS)


def _row(fields: list[str], order: tuple[int, ...]) -> ListedHash:
    if len(fields) != len(COLUMNS):
        raise InvalidRequest(f"expected {len(COLUMNS)} fields, got {len(fields)}")
    kind_text, value, name, action_text = (fields[i].strip() for i in order)
    kind = _TYPES.get(kind_text.lower())
    if kind is None:
        raise InvalidRequest(f"type {kind_text!r} is not pdq or sha256")
    value = value.lower()
    if not HASH_HEX.fullmatch(value):
        raise InvalidRequest(
            f"value for {kind} must be 64 hexadecimal characters, got {len(value)} ({value[:70]!r})"
        )
    action = _ACTIONS.get(action_text.lower())
    if action is None:
        raise InvalidRequest(f"action {action_text!r} is not open_case or auto_remove")
    if not name:
        raise InvalidRequest("list is empty: name the list this hash comes from")
    return ListedHash(kind, value, name, action)
