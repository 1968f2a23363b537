"""The CSV hash-list parser: good rows, precise line-numbered errors, streaming."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

from kabar.moderation.hashing import ListedHash
from kabar.moderation.hashlists import HashListError, HashListRow, parse_hash_list

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def parse(text: str) -> list[HashListRow | HashListError]:
    return list(parse_hash_list(io.BytesIO(text.encode())))


def errors(text: str) -> list[str]:
    return [str(item) for item in parse(text) if isinstance(item, HashListError)]


def test_a_valid_file_yields_every_row_with_its_line() -> None:
    lines = [
        "type,value,list,action\n",
        f"pdq,{PDQ},provider-a,open_case\n",
        "\n",
        "# a comment\n",
        f"SHA256,{SHA.upper()},known spam,AUTO_REMOVE\r\n",
    ]
    assert parse("".join(lines)) == [
        HashListRow(2, len("".join(lines[:2])), ListedHash("pdq", PDQ, "provider-a", "open_case")),
        HashListRow(5, len("".join(lines)), ListedHash("sha256", SHA, "known spam", "auto_remove")),
    ]


def test_columns_may_come_in_any_order_and_fields_may_be_quoted() -> None:
    items = parse(f'list,action,value,type\n"Provider, Inc.",open_case,{PDQ},pdq\n')
    assert items == [
        HashListRow(2, items[0].offset, ListedHash("pdq", PDQ, "Provider, Inc.", "open_case"))
    ]


def test_bad_rows_are_reported_with_line_numbers_and_parsing_continues() -> None:
    text = (
        "type,value,list,action\n"
        f"pdq,{PDQ},a,open_case\n"
        f"md5,{PDQ},a,open_case\n"
        "pdq,abc,a,open_case\n"
        f"sha256,{SHA}00,a,open_case\n"
        f"pdq,{PDQ[:-1]}g,a,open_case\n"
        f"pdq,{PDQ},a,delete\n"
        f"pdq,{PDQ},,open_case\n"
        f"pdq,{PDQ},a\n"
        f'pdq,{PDQ},"unterminated,open_case\n'
        f"sha256,{SHA},b,auto_remove\n"
    )
    assert errors(text) == [
        "line 3: type 'md5' is not pdq or sha256",
        "line 4: value for pdq must be 64 hexadecimal characters, got 3 ('abc')",
        f"line 5: value for sha256 must be 64 hexadecimal characters, got 66 ('{SHA}00')",
        f"line 6: value for pdq must be 64 hexadecimal characters, got 64 ('{PDQ[:-1]}g')",
        "line 7: action 'delete' is not open_case or auto_remove",
        "line 8: list is empty: name the list this hash comes from",
        "line 9: expected 4 fields, got 3",
        "line 10: not valid CSV: unexpected end of data",
    ]
    rows = [item for item in parse(text) if isinstance(item, HashListRow)]
    assert [row.line for row in rows] == [2, 11]


def test_a_missing_or_wrong_header_stops_with_one_error() -> None:
    assert errors(f"pdq,{PDQ},a,open_case\npdq,{PDQ},b,open_case\n") == [
        "line 1: the first line must be the header type,value,list,action (any order), "
        f"not pdq,{PDQ},a,open_case"
    ]
    assert len(errors("type,value,list\n")) == 1
    assert len(errors("type,value,list,action,extra\n")) == 1


def test_comments_may_precede_the_header_and_a_bom_is_ignored() -> None:
    items = parse(f"\ufeff# exported 2025-01-01\ntype,value,list,action\npdq,{PDQ},a,open_case\n")
    assert [type(item) for item in items] == [HashListRow]
    assert items[0].line == 3


def test_non_utf8_lines_are_reported() -> None:
    data = b"type,value,list,action\n" + b"pdq," + PDQ.encode() + b",caf\xe9,open_case\n"
    items = list(parse_hash_list(io.BytesIO(data)))
    assert len(items) == 1
    assert isinstance(items[0], HashListError)
    assert str(items[0]).startswith("line 2: not UTF-8 text")


def test_offsets_reach_the_file_size_for_a_progress_bar(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("type,value,list,action\n" + f"pdq,{PDQ},a,open_case\n" * 50)
    with path.open("rb") as file:
        offsets = [item.offset for item in parse_hash_list(file)]
    assert offsets == sorted(offsets)
    assert offsets[-1] == path.stat().st_size


def test_large_lists_are_streamed_not_loaded() -> None:
    def endless() -> Iterator[bytes]:
        yield b"type,value,list,action\n"
        for i in itertools.count():
            yield f"sha256,{i:064x},big,open_case\n".encode()

    first = list(itertools.islice(parse_hash_list(endless()), 1000))
    assert len(first) == 1000
    assert all(isinstance(item, HashListRow) for item in first)
