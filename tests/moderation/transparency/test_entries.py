"""Log entries: validation, the privacy rule, canonical leaf bytes."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.entries import LogEntry, Target, hashed_ref
from kabar.moderation.transparency.merkle import leaf_hash

SALT = b"0123456789abcdef-test-salt"


def test_every_kind_round_trips_through_json(log_entries: list[LogEntry]) -> None:
    for entry in log_entries[:4]:
        assert LogEntry.from_json(json.loads(json.dumps(entry.to_json()))) == entry


def test_leaf_bytes_are_canonical_json_and_hash_with_the_leaf_prefix(
    log_entries: list[LogEntry],
) -> None:
    entry = log_entries[0]
    assert entry.leaf_bytes() == (
        b'{"action":"remove_content","automated":false,"kind":"action","policy_item":"spam",'
        b'"seq":0,"source":"user_report","summary":"Repeated advertising posted as an article.",'
        b'"target":{"ref":"https://kabar.example/@shop/deal-0","type":"article"},'
        b'"time_ms":1735689600000,"version":1}'
    )
    assert entry.leaf_hash() == leaf_hash(entry.leaf_bytes())


def test_key_order_of_the_served_json_does_not_change_the_leaf(
    log_entries: list[LogEntry],
) -> None:
    data = log_entries[3].to_json()
    reordered = dict(reversed(list(data.items())))
    assert LogEntry.from_json(reordered).leaf_hash() == log_entries[3].leaf_hash()


def test_every_field_changes_the_leaf_hash(log_entries: list[LogEntry]) -> None:
    entry = log_entries[2]
    changed = [
        dataclasses.replace(entry, seq=3, appeal_of=1),
        dataclasses.replace(entry, time_ms=entry.time_ms + 1),
        dataclasses.replace(entry, policy_item="harassment"),
        dataclasses.replace(entry, action="appeal_denied"),
        dataclasses.replace(entry, target=Target("account", hashed_ref("a_other", SALT))),
        dataclasses.replace(entry, summary=entry.summary + "!"),
        dataclasses.replace(entry, appeal_of=1),
    ]
    hashes = {e.leaf_hash() for e in changed}
    assert len(hashes) == len(changed)
    assert entry.leaf_hash() not in hashes


def test_hashed_refs_are_stable_keyed_and_not_the_id() -> None:
    ref = hashed_ref("a_k3vexample", SALT)
    assert ref == hashed_ref("a_k3vexample", SALT)
    assert ref != hashed_ref("a_k3vexample", SALT + b"x")
    assert ref.startswith("sha256:")
    assert "k3vexample" not in ref
    with pytest.raises(InvalidRequest, match="at least 16 bytes"):
        hashed_ref("a_x", b"short")


@pytest.mark.parametrize("ref", ["alice", "https://kabar.example/@alice", "a_" + "b" * 26])
def test_a_private_account_is_never_referenced_by_name_or_id(ref: str) -> None:
    with pytest.raises(InvalidRequest, match="account is private"):
        Target("account", ref)


def test_a_message_target_must_be_hashed_too() -> None:
    with pytest.raises(InvalidRequest, match="message is private"):
        Target("message", "e_" + "c" * 26)
    assert Target("message", hashed_ref("e_" + "c" * 26, SALT)).ref.startswith("sha256:")


def test_public_targets_take_a_url_or_kabar_id() -> None:
    assert Target("article", "https://kabar.example/@news/today").type == "article"
    assert Target("public_account", "p_" + "d" * 26).type == "public_account"
    with pytest.raises(InvalidRequest, match="not a public URL or kabar id"):
        Target("article", "javascript:alert(1)")


def _json(log_entries: list[LogEntry], index: int, **changes: Any) -> dict[str, Any]:
    data = log_entries[index].to_json()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("index", "changes", "message"),
    [
        (0, {"kind": "ban"}, "kind 'ban' is not one of"),
        (0, {"source": "ai"}, "source 'ai' is not one of"),
        (0, {"action": "delete"}, "action 'delete' is not one of"),
        (0, {"action": "appeal_granted"}, "not one of .* for kind action"),
        (0, {"seq": -1}, "seq must be an integer"),
        (0, {"seq": 2**60}, "seq must be an integer"),
        (0, {"time_ms": "yesterday"}, "time_ms must be an integer"),
        (0, {"automated": 1}, "automated must be true or false"),
        (0, {"automated": True}, "only a hash_match action can be automated"),
        (0, {"policy_item": "Spam!"}, "not a policy item id"),
        (0, {"summary": " "}, "summary must be non-empty"),
        (0, {"summary": "x" * 1001}, "limit is 1000"),
        (0, {"summary": "bell\x07"}, "control characters"),
        (0, {"version": 2}, "version 2 is not 1"),
        (0, {"extra": 1}, "unknown field"),
        (0, {"appeal_of": None}, "must not be null"),
        (0, {"appeal_of": 0}, "appeal_of goes with kind appeal_outcome"),
        (0, {"source": "authority"}, "source authority goes with kind authority_request"),
        (0, {"target": {"type": "account", "ref": "alice"}}, "account is private"),
        (0, {"target": {"type": "article"}}, "target lacks ref"),
        (0, {"target": "https://x"}, "target must be a JSON object"),
        (2, {"appeal_of": 2}, "must name an earlier entry"),
        (2, {"source": "user_report"}, "decided by a moderator"),
        (3, {"authority": {"name": "x"}}, "authority lacks legal_basis, received_ms, request"),
        (3, {"action": "dismiss"}, "not one of .* for kind authority_request"),
    ],
)
def test_invalid_entries_are_refused_with_a_precise_reason(
    log_entries: list[LogEntry], index: int, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        LogEntry.from_json(_json(log_entries, index, **changes))


def test_an_authority_request_without_details_is_refused(log_entries: list[LogEntry]) -> None:
    data = log_entries[3].to_json()
    del data["authority"]
    with pytest.raises(InvalidRequest, match="authority details go with"):
        LogEntry.from_json(data)
