"""The auditor catches every way a log can be tampered with, and names where."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.encoding import b64encode
from kabar.moderation.transparency.entries import LogEntry
from kabar.moderation.transparency.merkle import consistency_proof, leaf_hash, root
from kabar.moderation.transparency.sth import LogSigningKey, SignedTreeHead
from kabar.moderation.transparency.verify import Checkpoint, Problem, Verdict, verify_log

from .conftest import make_log

KEY = LogSigningKey.generate()
ENTRIES = make_log(12)
LEAVES = [e.leaf_hash() for e in ENTRIES]
SAVED_SIZE = 8

Served = list[dict[str, Any]]


def sign(leaves: list[bytes], key: LogSigningKey = KEY) -> SignedTreeHead:
    return key.sign(len(leaves), root(leaves), 1_700_000_000_000 + len(leaves))


def serve(entries: list[LogEntry] = ENTRIES) -> Served:
    return [{"entry": e.to_json(), "leaf_hash": b64encode(e.leaf_hash())} for e in entries]


def saved(with_hashes: bool = True) -> Checkpoint:
    prefix = LEAVES[:SAVED_SIZE]
    return Checkpoint(sign(prefix), tuple(prefix) if with_hashes else None)


def audit(
    served: Served,
    *,
    checkpoint: Checkpoint | None = None,
    head: SignedTreeHead | None = None,
    proof: list[bytes] | None = None,
) -> Verdict:
    checkpoint = saved() if checkpoint is None else checkpoint
    head = sign(LEAVES) if head is None else head
    if proof is None:
        proof = consistency_proof(checkpoint.head.head.tree_size, LEAVES)
    return verify_log(KEY.public_key, checkpoint, head, served, proof)


def test_an_honest_log_verifies_and_yields_the_next_checkpoint() -> None:
    for checkpoint in (saved(), saved(with_hashes=False)):
        verdict = audit(serve(), checkpoint=checkpoint)
        assert verdict.ok, verdict.detail
        assert verdict.checkpoint is not None
        assert verdict.checkpoint.leaf_hashes == tuple(LEAVES)
        assert verdict.checkpoint.head == sign(LEAVES)


def test_first_run_trusts_on_first_use() -> None:
    verdict = verify_log(KEY.public_key, None, sign(LEAVES), serve(), [])
    assert verdict.ok, verdict.detail


def test_the_next_run_continues_from_the_returned_checkpoint() -> None:
    first = verify_log(KEY.public_key, None, sign(LEAVES[:5]), serve(ENTRIES[:5]), [])
    assert first.checkpoint is not None
    stored = Checkpoint.from_json(json.loads(json.dumps(first.checkpoint.to_json())))
    second = audit(serve(), checkpoint=stored, proof=consistency_proof(5, LEAVES))
    assert second.ok, second.detail


Mutation = Callable[[dict[str, Any]], None]
FIELD_CHANGES: list[tuple[int, str, Mutation]] = [
    (0, "time_ms", lambda e: e.update(time_ms=e["time_ms"] + 1)),
    (0, "policy_item", lambda e: e.update(policy_item="harassment")),
    (0, "source", lambda e: e.update(source="moderator")),
    (0, "action", lambda e: e.update(action="label")),
    (0, "summary", lambda e: e.update(summary="Nothing to see.")),
    (4, "target.ref", lambda e: e["target"].update(ref="https://kabar.example/@other/x")),
    (4, "target.type", lambda e: e["target"].update(type="public_account")),
    (5, "automated", lambda e: e.update(automated=False)),
    (6, "appeal_of", lambda e: e.update(appeal_of=5)),
    (7, "authority.name", lambda e: e["authority"].update(name="Someone Else")),
    (7, "authority.received_ms", lambda e: e["authority"].update(received_ms=1)),
    (10, "action (after the saved size)", lambda e: e.update(action="appeal_denied")),
]


def _altered(index: int, change: Mutation, *, rehash: bool) -> Served:
    served = copy.deepcopy(serve())
    change(served[index]["entry"])
    if rehash:  # the attacker also fixes the served leaf hash
        forged = LogEntry.from_json(served[index]["entry"]).leaf_hash()
        served[index]["leaf_hash"] = b64encode(forged)
    return served


@pytest.mark.parametrize(("index", "name", "change"), FIELD_CHANGES)
def test_altering_any_field_is_caught_at_its_index(index: int, name: str, change: Mutation) -> None:
    verdict = audit(_altered(index, change, rehash=False))
    assert (verdict.problem, verdict.index) == (Problem.ALTERED, index), name


@pytest.mark.parametrize(("index", "name", "change"), FIELD_CHANGES)
def test_altering_a_field_and_its_served_hash_is_still_caught(
    index: int, name: str, change: Mutation
) -> None:
    served = _altered(index, change, rehash=True)
    with_copy = audit(served)
    if index < SAVED_SIZE:
        assert (with_copy.problem, with_copy.index) == (Problem.ALTERED, index), name
    else:
        assert with_copy.problem is Problem.ROOT_MISMATCH, name
    # Without a saved copy of the leaves, the range of the alteration is still named.
    without = audit(served, checkpoint=saved(with_hashes=False))
    expected = Problem.HISTORY_REWRITTEN if index < SAVED_SIZE else Problem.ROOT_MISMATCH
    assert without.problem is expected, name
    assert without.span is not None
    assert without.span[0] <= index < without.span[1]


def test_a_re_signed_rewrite_of_history_is_caught() -> None:
    # The operator holds the key, rewrites entry 3 and signs a fresh head over it.
    served = _altered(3, lambda e: e.update(summary="Rewritten."), rehash=True)
    forged_leaves = [LogEntry.from_json(s["entry"]).leaf_hash() for s in served]
    head = sign(forged_leaves)
    proof = consistency_proof(SAVED_SIZE, forged_leaves)
    verdict = audit(served, head=head, proof=proof)
    assert (verdict.problem, verdict.index) == (Problem.ALTERED, 3)
    without = audit(served, checkpoint=saved(with_hashes=False), head=head, proof=proof)
    assert without.problem is Problem.HISTORY_REWRITTEN


def test_swapping_two_entries_is_reported_as_reordered() -> None:
    served = serve()
    served[2], served[9] = served[9], served[2]
    verdict = audit(served)
    assert (verdict.problem, verdict.index) == (Problem.REORDERED, 2)


def test_removing_an_entry_is_reported_at_its_index() -> None:
    served = serve()
    del served[4]
    verdict = audit(served)
    assert (verdict.problem, verdict.index) == (Problem.REMOVED, 4)


def test_inserting_an_entry_is_reported_at_its_index() -> None:
    served = serve()
    forged = serve([ENTRIES[4]])[0]
    forged["entry"]["summary"] = "An entry that was never logged."
    forged["leaf_hash"] = b64encode(LogEntry.from_json(forged["entry"]).leaf_hash())
    served.insert(5, forged)
    verdict = audit(served)
    assert (verdict.problem, verdict.index) == (Problem.INSERTED, 5)


def test_entries_beyond_the_signed_size_are_extra() -> None:
    verdict = audit(serve(), head=sign(LEAVES[:10]), proof=consistency_proof(8, LEAVES[:10]))
    assert (verdict.problem, verdict.index) == (Problem.INSERTED, 10)


def test_a_truncated_page_set_is_caught() -> None:
    verdict = audit(serve()[:10])
    assert (verdict.problem, verdict.index) == (Problem.TRUNCATED, 10)


def test_a_log_that_shrank_below_the_saved_head_is_caught() -> None:
    verdict = audit(serve()[:6], head=sign(LEAVES[:6]), proof=[])
    assert (verdict.problem, verdict.index) == (Problem.TRUNCATED, 6)


def test_a_forged_head_signature_is_caught() -> None:
    head = sign(LEAVES)
    forged = SignedTreeHead(head.head, bytes([head.signature[0] ^ 0x01]) + head.signature[1:])
    assert audit(serve(), head=forged).problem is Problem.BAD_SIGNATURE
    impostor = sign(LEAVES, key=LogSigningKey.generate())
    assert audit(serve(), head=impostor).problem is Problem.BAD_SIGNATURE


def test_a_tampered_saved_head_is_caught() -> None:
    good = saved(with_hashes=False).head
    tampered = SignedTreeHead(good.head, good.signature[:-1] + bytes([good.signature[-1] ^ 1]))
    verdict = audit(serve(), checkpoint=Checkpoint(tampered))
    assert verdict.problem is Problem.BAD_SIGNATURE
    assert "saved" in verdict.detail


def test_a_bad_consistency_proof_is_caught() -> None:
    proof = consistency_proof(SAVED_SIZE, LEAVES)
    proof[0] = leaf_hash(b"not a node")
    assert audit(serve(), proof=proof).problem is Problem.INCONSISTENT


def test_a_malformed_entry_is_named() -> None:
    served = serve()
    served[6]["entry"]["kind"] = "rumour"
    verdict = audit(served)
    assert (verdict.problem, verdict.index) == (Problem.MALFORMED, 6)
    assert "rumour" in verdict.detail
    served = serve()
    served[1] = {"entry": served[1]["entry"], "leaf_hash": "@@"}
    assert audit(served).problem is Problem.MALFORMED


def test_a_damaged_checkpoint_file_is_refused() -> None:
    data = saved().to_json()
    data["leaf_hashes"] = b64encode(b"\x00" * 32 * SAVED_SIZE)
    with pytest.raises(InvalidRequest, match="damaged"):
        Checkpoint.from_json(data)
    with pytest.raises(InvalidRequest, match="must be 256 bytes"):
        Checkpoint.from_json({**data, "leaf_hashes": b64encode(b"\x00" * 32)})
