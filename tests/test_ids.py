"""Ids: what counts as an id of a kind, and that every such id decodes."""

from __future__ import annotations

import pytest

from kabar.errors import InvalidRequest
from kabar.ids import id_bytes, looks_like_id, new_id


def test_a_new_id_looks_like_its_kind_and_no_other() -> None:
    value = new_id("c")
    assert looks_like_id(value, "c")
    assert not looks_like_id(value, "a")
    assert len(id_bytes(value)) == 16


@pytest.mark.parametrize(
    "value",
    [
        "",
        "c_",
        "c_" + "a" * 25,  # too short
        "c_" + "a" * 27,  # too long
        "c-" + "a" * 26,  # no underscore
        "cc" + "a" * 26,
        "c_" + "a" * 25 + "1",  # 0, 1, 8 and 9 are not base32
        "c_" + "a" * 25 + "=",
        "c_" + "a" * 25 + "/",
        "c_" + "ſ" * 26,  # upper-cases to S, yet is no id
        "c_" + "ı" * 26,
    ],
)
def test_malformed_ids_are_not_ids(value: str) -> None:
    assert not looks_like_id(value, "c")


@pytest.mark.parametrize(
    "body", ["abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "234567" * 4 + "ab"]
)
def test_whatever_looks_like_an_id_decodes(body: str) -> None:
    value = "c_" + body
    assert looks_like_id(value, "c")
    assert len(id_bytes(value)) == 16


def test_id_bytes_refuses_what_is_not_an_id() -> None:
    with pytest.raises(InvalidRequest):
        id_bytes("c_" + "1" * 26)
