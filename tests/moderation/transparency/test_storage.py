"""Proofs from stored nodes or stored leaf hashes equal the in-memory RFC proofs."""

from __future__ import annotations

import pytest

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.frontier import Frontier, NodeId
from kabar.moderation.transparency.merkle import consistency_proof, inclusion_proof, leaf_hash
from kabar.moderation.transparency.storage import (
    consistency_proof_from_leaves,
    inclusion_proof_from_leaves,
    plan_consistency,
    plan_inclusion,
)

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(70)]
# What a database writer would have stored while appending all 70 leaves.
NODES: dict[NodeId, bytes] = dict(Frontier().extend(LEAVES))


def read_leaves(start: int, end: int) -> list[bytes]:
    return LEAVES[start:end]


def test_inclusion_proofs_from_stored_nodes_match_the_rfc() -> None:
    for size in range(1, 70):
        for index in range(size):
            plan = plan_inclusion(index, size)
            assert plan.assemble(NODES) == inclusion_proof(index, LEAVES[:size]), (index, size)


def test_consistency_proofs_from_stored_nodes_match_the_rfc() -> None:
    for size2 in range(1, 70):
        for size1 in range(size2 + 1):
            plan = plan_consistency(size1, size2)
            assert plan.assemble(NODES) == consistency_proof(size1, LEAVES[:size2])


def test_a_proof_reads_only_logarithmically_many_nodes() -> None:
    big = 1_000_003
    for index in (0, 1, 524_287, 999_999, big - 1):
        assert len(plan_inclusion(index, big).node_ids()) <= 2 * big.bit_length()
    assert len(plan_consistency(12_345, big).node_ids()) <= 2 * big.bit_length()


def test_proofs_from_leaf_hashes_match_the_rfc() -> None:
    assert inclusion_proof_from_leaves(41, 70, read_leaves) == inclusion_proof(41, LEAVES)
    assert consistency_proof_from_leaves(23, 70, read_leaves) == consistency_proof(23, LEAVES)


def test_assembling_with_a_missing_node_names_it() -> None:
    plan = plan_inclusion(5, 8)
    partial = {node: NODES[node] for node in plan.node_ids()[1:]}
    with pytest.raises(InvalidRequest, match="lacks node"):
        plan.assemble(partial)


def test_a_leaf_reader_returning_too_few_hashes_is_an_error() -> None:
    with pytest.raises(InvalidRequest, match="got 2 hashes"):
        inclusion_proof_from_leaves(0, 8, lambda start, end: LEAVES[start : min(end, start + 2)])
