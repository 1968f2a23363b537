"""Proofs for a log whose hashes live in a database, without loading the tree.

Every element of an RFC 9162 proof is the MTH of some leaf range
(``merkle.inclusion_ranges`` / ``merkle.consistency_ranges``). There are two
ways to get those MTHs from storage:

* **From stored nodes** (recommended): if the writer stores every node that
  :meth:`Frontier.append` completes (about 2n rows of 32 bytes), each range is
  the fold of at most log2(n)+1 stored perfect subtrees. A proof then needs
  O(log n) node reads, fetched in one batch, and O(log n) hashes: only one
  range per proof is ragged (the right edge of the tree), the rest are single
  perfect nodes.
* **From leaf hashes** (no extra storage): read the leaves of each range
  through ``get_leaf_hashes(start, end)`` and hash them. The ranges are
  disjoint, so a proof reads at most n leaf hashes and costs O(n) hashes.

The first is sans-IO so that async storage code can drive it::

    plan = plan_inclusion(index, tree_size)
    hashes = await store.read_nodes(plan.node_ids())   # {NodeId: bytes}
    proof = plan.assemble(hashes)

The root at any earlier size ``m`` (to re-sign or audit an old head) is
``Frontier(m, hashes of Frontier.node_ids(m)).root()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.frontier import NodeId, fold, perfect_nodes
from kabar.moderation.transparency.merkle import (
    HASH_SIZE,
    LeafRange,
    consistency_ranges,
    inclusion_ranges,
    root,
)

LeafHashReader = Callable[[int, int], Sequence[bytes]]
"""``get_leaf_hashes(start, end)``: the stored leaf hashes ``[start, end)``, in order."""


@dataclass(frozen=True, slots=True)
class ProofPlan:
    """The leaf ranges a proof is made of, and the stored nodes that cover them."""

    ranges: tuple[LeafRange, ...]

    def node_ids(self) -> list[NodeId]:
        """Every node to read, in proof order (at most O(log n) of them)."""
        return [node for a, b in self.ranges for node in perfect_nodes(a, b)]

    def assemble(self, hashes: Mapping[NodeId, bytes]) -> list[bytes]:
        """The proof, from the nodes read; raises if storage lacked one."""
        proof = []
        for a, b in self.ranges:
            nodes = perfect_nodes(a, b)
            missing = [node for node in nodes if node not in hashes]
            if missing:
                raise InvalidRequest(f"stored tree lacks node {missing[0]} for leaves [{a}, {b})")
            if any(len(hashes[node]) != HASH_SIZE for node in nodes):
                raise InvalidRequest(f"stored tree has a malformed node hash in [{a}, {b})")
            proof.append(fold([hashes[node] for node in nodes]))
        return proof


def plan_inclusion(index: int, tree_size: int) -> ProofPlan:
    """What to read for the inclusion proof of leaf ``index`` in a tree of ``tree_size``."""
    return ProofPlan(tuple(inclusion_ranges(index, tree_size)))


def plan_consistency(size1: int, size2: int) -> ProofPlan:
    """What to read for the consistency proof from ``size1`` to ``size2``."""
    return ProofPlan(tuple(consistency_ranges(size1, size2)))


def inclusion_proof_from_leaves(
    index: int, tree_size: int, get_leaf_hashes: LeafHashReader
) -> list[bytes]:
    """``PATH(index, D[tree_size])`` from leaf hashes alone: O(n) reads and hashes."""
    return _from_leaves(plan_inclusion(index, tree_size), get_leaf_hashes)


def consistency_proof_from_leaves(
    size1: int, size2: int, get_leaf_hashes: LeafHashReader
) -> list[bytes]:
    """``PROOF(size1, D[size2])`` from leaf hashes alone: O(n) reads and hashes."""
    return _from_leaves(plan_consistency(size1, size2), get_leaf_hashes)


def _from_leaves(plan: ProofPlan, get_leaf_hashes: LeafHashReader) -> list[bytes]:
    proof = []
    for a, b in plan.ranges:
        leaves = get_leaf_hashes(a, b)
        if len(leaves) != b - a:
            raise InvalidRequest(f"asked storage for leaves [{a}, {b}), got {len(leaves)} hashes")
        proof.append(root(leaves))
    return proof
