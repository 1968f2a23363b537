"""The O(log n) incremental state of the log."""

from __future__ import annotations

import pytest

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.frontier import Frontier, NodeId, perfect_nodes
from kabar.moderation.transparency.merkle import EMPTY_ROOT, leaf_hash, root, subtree_root

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(200)]


def test_appending_gives_the_rfc_root_at_every_size() -> None:
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size in range(1, 200):
        frontier.append(LEAVES[size - 1])
        assert frontier.size == size
        assert frontier.root() == root(LEAVES[:size])
        # Only popcount(size) hashes are kept: O(log n).
        assert len(frontier.hashes) == size.bit_count()


def test_completed_nodes_are_the_perfect_subtrees_of_the_tree() -> None:
    stored = Frontier().extend(LEAVES[:13])
    assert [node for node, _ in stored[:3]] == [NodeId(0, 0), NodeId(0, 1), NodeId(1, 0)]
    # 13 leaves + 6 pairs + 3 quads + 1 octet.
    assert len(stored) == 13 + 6 + 3 + 1
    for node, value in stored:
        assert value == subtree_root(LEAVES, node.start, node.end), node


def test_a_frontier_restored_from_storage_continues_the_same_tree() -> None:
    nodes = dict(Frontier().extend(LEAVES[:37]))
    ids = Frontier.node_ids(37)
    assert [(n.start, n.end) for n in ids] == [(0, 32), (32, 36), (36, 37)]
    restored = Frontier(37, [nodes[node] for node in ids])
    assert restored.root() == root(LEAVES[:37])
    restored.extend(LEAVES[37:50])
    assert restored.root() == root(LEAVES[:50])


def test_copy_is_independent() -> None:
    original = Frontier()
    original.extend(LEAVES[:5])
    clone = original.copy()
    clone.append(LEAVES[5])
    assert original.size == 5
    assert original.root() == root(LEAVES[:5])


def test_perfect_nodes_cover_a_right_edge_range_largest_first() -> None:
    assert perfect_nodes(16, 27) == [NodeId(3, 2), NodeId(1, 12), NodeId(0, 26)]


def test_perfect_nodes_refuses_ranges_that_are_not_subtrees() -> None:
    with pytest.raises(InvalidRequest, match="not a subtree"):
        perfect_nodes(3, 7)
    with pytest.raises(InvalidRequest, match="empty"):
        perfect_nodes(4, 4)


def test_a_frontier_with_the_wrong_number_of_hashes_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="size 5 has 2 hashes, not 1"):
        Frontier(5, [LEAVES[0]])
    with pytest.raises(InvalidRequest, match="32 bytes"):
        Frontier().append(b"short")
