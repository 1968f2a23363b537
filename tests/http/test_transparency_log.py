"""The public log over HTTP: signed heads, pages with inclusion proofs, consistency proofs."""

from __future__ import annotations

from typing import Any

import pytest

from kabar.moderation.transparency.encoding import b64decode
from kabar.moderation.transparency.entries import LogEntry
from kabar.moderation.transparency.merkle import verify_consistency, verify_inclusion
from kabar.moderation.transparency.sth import LogPublicKey, SignedTreeHead
from support.api import Api, ApiError
from support.server import RunningServer
from support.transparency import append_actions


def _hashes(values: list[str]) -> list[bytes]:
    return [b64decode(v, field="hash", length=32) for v in values]


async def _signed_head(api: Api, key: LogPublicKey) -> SignedTreeHead:
    body = await api.call("GET", "/transparency/log/head")
    sth = SignedTreeHead.from_json(body["head"])
    assert key.verify(sth)
    assert body["key"]["log_id"] == key.log_id
    return sth


async def test_an_empty_log_has_a_signed_head(api: Api) -> None:
    key = LogPublicKey.from_raw_base64((await api.call("GET", "/transparency/key"))["public_key"])
    sth = await _signed_head(api, key)
    assert sth.head.tree_size == 0
    page = await api.call("GET", "/transparency/log")
    assert page["entries"] == []
    assert page["next"] is None


async def test_every_entry_comes_with_a_proof_against_the_signed_head(
    server: RunningServer, api: Api
) -> None:
    appended = await append_actions(server.services, 5)
    appended += await append_actions(server.services, 6, action="label", policy_item="other")
    key_body = await api.call("GET", "/transparency/key")
    key = LogPublicKey.from_pem(key_body["pem"].encode())
    assert key.to_raw_base64() == key_body["public_key"]

    served: list[dict[str, Any]] = []
    start: int | None = 0
    while start is not None:
        page = await api.call("GET", "/transparency/log", params={"start": start, "limit": 4})
        sth = SignedTreeHead.from_json(page["head"])
        assert key.verify(sth)
        assert sth.head.tree_size == 11
        for item in page["entries"]:
            entry = LogEntry.from_json(item["entry"])
            leaf = entry.leaf_hash()
            assert item["index"] == entry.seq
            assert _hashes([item["leaf_hash"]]) == [leaf]
            proof = _hashes(item["inclusion_proof"])
            assert verify_inclusion(leaf, item["index"], 11, proof, sth.head.root_hash)
        served += page["entries"]
        start = page["next"]
    assert [LogEntry.from_json(s["entry"]) for s in served] == appended


async def test_heads_are_signed_once_per_size_and_stay_consistent(
    server: RunningServer, api: Api
) -> None:
    key = LogPublicKey.from_raw_base64((await api.call("GET", "/transparency/key"))["public_key"])
    await append_actions(server.services, 3)
    old = await _signed_head(api, key)
    assert await _signed_head(api, key) == old  # the same head, timestamp and all
    await append_actions(server.services, 4)
    new = await _signed_head(api, key)
    assert new.head.tree_size == 7

    body = await api.call("GET", "/transparency/log/consistency", params={"from": 3})
    assert (body["first"], body["second"]) == (3, 7)
    assert verify_consistency(3, 7, old.head.root_hash, new.head.root_hash, _hashes(body["proof"]))
    # With an explicit end as well.
    body = await api.call("GET", "/transparency/log/consistency", params={"from": 3, "to": 7})
    assert verify_consistency(3, 7, old.head.root_hash, new.head.root_hash, _hashes(body["proof"]))


@pytest.mark.parametrize(
    "params", [{"from": 5}, {"from": 2, "to": 1}, {"from": 1, "to": 9}, {"from": -1}]
)
async def test_impossible_consistency_requests_are_refused(
    server: RunningServer, api: Api, params: dict[str, int]
) -> None:
    await append_actions(server.services, 3)
    with pytest.raises(ApiError) as caught:
        await api.call("GET", "/transparency/log/consistency", params=params)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_request"


async def test_pages_past_the_end_are_empty(server: RunningServer, api: Api) -> None:
    await append_actions(server.services, 2)
    page = await api.call("GET", "/transparency/log", params={"start": 5})
    assert page["entries"] == []
    assert page["next"] is None
    with pytest.raises(ApiError) as caught:
        await api.call("GET", "/transparency/log", params={"limit": 0})
    assert caught.value.status == 400
