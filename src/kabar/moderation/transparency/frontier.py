"""The incremental state of a growing log: its frontier of perfect subtrees.

A tree of ``n`` leaves, cut by the RFC 9162 split rule, is a row of *perfect*
subtrees whose sizes are the set bits of ``n``, largest first: 13 = 8 + 4 + 1
leaves means subtrees over ``D[0:8]``, ``D[8:12]`` and ``D[12:13]``. Their
roots — ``popcount(n) <= log2(n) + 1`` hashes — are all a log needs to keep to

* append a leaf: push it, then merge the two rightmost subtrees while they have
  the same size (like incrementing a binary counter; amortised O(1) hashes,
  O(log n) at worst), and
* compute the current root: fold the row from the right, O(log n) hashes.

So the writer of a database-backed log keeps ``(size, frontier hashes)`` in one
row, appends a batch, signs the new root, and stores the subtree nodes each
append completes (:meth:`Frontier.append` returns them) so that ``storage`` can
build proofs from O(log n) stored nodes.

A node is named by :class:`NodeId` ``(level, index)``: the perfect subtree over
leaves ``[index·2^level, (index+1)·2^level)``. Level 0 nodes are leaf hashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.merkle import EMPTY_ROOT, HASH_SIZE, node_hash


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """The perfect subtree over leaves ``[index·2^level, (index+1)·2^level)``."""

    level: int
    index: int

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


def perfect_nodes(start: int, end: int) -> list[NodeId]:
    """The perfect subtrees that make up ``MTH(D[start:end])``, largest first.

    Defined for the subtrees the RFC split produces: ``start`` must be a multiple
    of the smallest power of two ``>= end - start`` (every range in a proof, and
    ``[0, n)``, is). Their MTH is then the right fold of these nodes' hashes.
    """
    size = end - start
    if size <= 0:
        raise InvalidRequest(f"leaf range [{start}, {end}) is empty")
    if start % (1 << (size - 1).bit_length()):
        raise InvalidRequest(f"leaf range [{start}, {end}) is not a subtree of the log")
    nodes = []
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            nodes.append(NodeId(level, start >> level))
            start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The MTH of consecutive perfect subtrees (largest first), folded from the right."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


class Frontier:
    """The roots of the perfect subtrees of a log of ``size`` leaves (mutable).

    Build it empty, or restore it from a database row with
    ``Frontier(size, hashes)`` where ``hashes`` are the nodes of
    ``Frontier.node_ids(size)`` in that order.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        hashes = list(hashes)
        if size < 0 or len(hashes) != size.bit_count():
            raise InvalidRequest(
                f"a frontier of size {size} has {max(size, 0).bit_count()} hashes, "
                f"not {len(hashes)}"
            )
        if any(len(h) != HASH_SIZE for h in hashes):
            raise InvalidRequest("frontier hashes are 32 bytes each")
        self._size = size
        self._hashes = hashes

    @staticmethod
    def node_ids(size: int) -> list[NodeId]:
        """Which stored nodes form the frontier of a ``size``-leaf tree, largest first."""
        return perfect_nodes(0, size) if size else []

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def root(self) -> bytes:
        """``MTH(D[size])``: O(log n) hashes."""
        return fold(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf; return every node this completes, the leaf itself first.

        Storing the returned nodes keeps, over the log's life, the hash of every
        perfect aligned subtree (about 2n rows), which is what O(log n) proofs need.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise InvalidRequest("a leaf hash is 32 bytes")
        position = self._size
        completed = [(NodeId(0, position), leaf_hash)]
        acc, level, carry = leaf_hash, 0, position
        # Each trailing 1 bit of the old size is a same-sized subtree to merge with.
        while carry & 1:
            acc = node_hash(self._hashes.pop(), acc)
            level += 1
            carry >>= 1
            completed.append((NodeId(level, position >> level), acc))
        self._hashes.append(acc)
        self._size += 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[tuple[NodeId, bytes]]:
        """Append several leaves; return all the nodes they complete."""
        completed: list[tuple[NodeId, bytes]] = []
        for h in leaf_hashes:
            completed.extend(self.append(h))
        return completed

    def copy(self) -> Frontier:
        return Frontier(self._size, self._hashes)
