"""The Merkle tree of the transparency log, exactly as RFC 9162 §2.1 defines it.

Hashing (§2.1.1), with SHA-256::

    MTH({})      = SHA-256()                                   (EMPTY_ROOT)
    MTH({d0})    = SHA-256(0x00 ‖ d0)                          (leaf_hash)
    MTH(D[n])    = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))   (node_hash)

where ``k`` is the largest power of two smaller than ``n``. The 0x00/0x01
prefixes keep a leaf from ever being mistaken for an inner node (a second
preimage attack on the tree).

Everything here takes *leaf hashes*, never raw entries: the log stores leaf
hashes, and ``MTH({d})`` of a one-leaf tree is that leaf's hash.

Proof generation follows PATH (§2.1.3.1) and PROOF/SUBPROOF (§2.1.4.1). It is
written in two steps so a database-backed log can reuse the second half:
``inclusion_ranges`` / ``consistency_ranges`` say which leaf ranges ``D[a:b]``
the proof is made of (pure index arithmetic, O(log n)); ``inclusion_proof`` /
``consistency_proof`` then hash those ranges from an in-memory list (O(n)).
See ``storage`` for proofs from stored subtree hashes in O(log n) reads.

Verification follows §2.1.3.2 and §2.1.4.2 step by step. Note what a proof
binds: an inclusion proof only fixes the *shape* of the path from a leaf to the
root, so the same proof can also verify for a different ``tree_size`` whose
path has the same shape (leaf 0 of a 5-leaf and of a 7-leaf tree, say). A log
client must therefore take ``tree_size`` and ``root`` together from one signed
tree head, never from two sources.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from kabar.errors import InvalidRequest

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

LeafRange = tuple[int, int]
"""``(start, end)``: the leaves ``D[start:end]`` whose MTH is one proof element."""


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 ‖ leaf)``: the hash of one entry's canonical bytes."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``: the hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise InvalidRequest(f"a tree of {n} leaves has no split point")
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` of the whole list."""
    return subtree_root(leaf_hashes, 0, len(leaf_hashes))


def subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """``MTH(D[start:end])``, recursing on the RFC split (depth ≤ log2 n, O(n) hashes)."""
    if not 0 <= start <= end <= len(leaf_hashes):
        raise InvalidRequest(
            f"leaf range [{start}, {end}) is outside a {len(leaf_hashes)}-leaf list"
        )
    if end == start:
        return EMPTY_ROOT
    if end - start == 1:
        return leaf_hashes[start]
    mid = start + split_point(end - start)
    return node_hash(subtree_root(leaf_hashes, start, mid), subtree_root(leaf_hashes, mid, end))


def inclusion_ranges(index: int, tree_size: int) -> list[LeafRange]:
    """The ranges whose MTHs make up ``PATH(index, D[tree_size])``, leaf side first."""
    if not 0 <= index < tree_size:
        raise InvalidRequest(f"leaf index {index} is not in a tree of size {tree_size}")
    return _path(index, 0, tree_size)


def _path(m: int, start: int, end: int) -> list[LeafRange]:
    # PATH(m, D[n]) on the sub-list D[start:end]; m is relative to start.
    n = end - start
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*_path(m, start, start + k), (start + k, end)]
    return [*_path(m - k, start + k, end), (start, start + k)]


def consistency_ranges(size1: int, size2: int) -> list[LeafRange]:
    """The ranges whose MTHs make up ``PROOF(size1, D[size2])``.

    The RFC defines the proof for ``0 < size1 <= size2``; it is empty when the
    sizes are equal. An empty old tree is consistent with every tree, so
    ``size1 == 0`` gets an empty proof too.
    """
    if not 0 <= size1 <= size2:
        raise InvalidRequest(f"no consistency proof from size {size1} to size {size2}")
    if size1 == 0:
        return []
    return _subproof(size1, 0, size2, complete=True)


def _subproof(m: int, start: int, end: int, *, complete: bool) -> list[LeafRange]:
    # SUBPROOF(m, D[start:end], b); m is relative to start. ``complete`` is the RFC's
    # b: true while D[start:start+m] is still the whole old tree, whose root the
    # verifier already knows, so it need not be sent.
    n = end - start
    if m == n:
        return [] if complete else [(start, end)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(m, start, start + k, complete=complete), (start + k, end)]
    return [*_subproof(m - k, start + k, end, complete=False), (start, start + k)]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """``PATH(index, D[n])`` for the list; O(n) hashes (the ranges are disjoint)."""
    ranges = inclusion_ranges(index, len(leaf_hashes))
    return [subtree_root(leaf_hashes, a, b) for a, b in ranges]


def consistency_proof(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """``PROOF(m, D[n])`` for the list; O(n) hashes (the ranges are disjoint)."""
    ranges = consistency_ranges(m, len(leaf_hashes))
    return [subtree_root(leaf_hashes, a, b) for a, b in ranges]


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show that leaf ``index`` of ``root`` is ``leaf_hash``?"""
    if not 0 <= index < tree_size or not _all_hashes(leaf_hash, root, *proof):
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Climb past the levels where this node is a lone right edge with no sibling.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does tree ``(size2, root2)`` only append to ``(size1, root1)``?"""
    if not 0 <= size1 <= size2 or not _all_hashes(root1, root2, *proof):
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof and root1 == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        # The old tree is a complete subtree: its root is the proof's implicit first node.
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == root1 and sr == root2 and sn == 0


def _all_hashes(*values: bytes) -> bool:
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)
