"""RFC 9162 §2.1 hashing, proofs and verification."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The reference tree of the Certificate Transparency code (google/certificate-transparency,
# transparency-dev/merkle): eight leaves and the roots of each prefix.
VECTOR_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H96A = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
H5F0 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
H6B4 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
HBC1 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
HCA8 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
H0EB = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
# (index, tree size, path) — the CT vectors number leaves from 1; these are 0-based.
VECTOR_INCLUSION = [
    (0, 1, []),
    (0, 8, [H96A, H5F0, H6B4]),
    (5, 8, [HBC1, HCA8, VECTOR_ROOTS[3]]),
    (2, 3, [VECTOR_ROOTS[1]]),
    (1, 5, [VECTOR_ROOTS[0], H5F0, HBC1]),
]
VECTOR_CONSISTENCY = [
    (1, 1, []),
    (1, 8, [H96A, H5F0, H6B4]),
    (6, 8, [H0EB, HCA8, VECTOR_ROOTS[3]]),
    (2, 5, [H5F0, HBC1]),
]

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(64)]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(data)


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == sha256(b"")


def test_small_trees_match_hand_computed_hashes() -> None:
    a, b, c = (sha256(b"\x00" + d) for d in (b"a", b"b", b"c"))
    assert leaf_hash(b"a") == a
    assert node_hash(a, b) == sha256(b"\x01" + a + b)
    assert root([a]) == a
    assert root([a, b]) == sha256(b"\x01" + a + b)
    # Three leaves split 2 + 1 (largest power of two below 3), not 1 + 2.
    assert root([a, b, c]) == sha256(b"\x01" + sha256(b"\x01" + a + b) + c)


def test_five_leaves_split_four_and_one() -> None:
    h = LEAVES[:5]
    left = node_hash(node_hash(h[0], h[1]), node_hash(h[2], h[3]))
    assert root(h) == node_hash(left, h[4])
    assert inclusion_proof(4, h) == [left]
    assert inclusion_proof(2, h) == [h[3], node_hash(h[0], h[1]), h[4]]
    assert consistency_proof(3, h) == [h[2], h[3], node_hash(h[0], h[1]), h[4]]


def test_roots_match_the_ct_reference_vectors() -> None:
    hashes = [leaf_hash(leaf) for leaf in VECTOR_LEAVES]
    assert [root(hashes[:n]).hex() for n in range(1, 9)] == VECTOR_ROOTS


@pytest.mark.parametrize(("index", "size", "path"), VECTOR_INCLUSION)
def test_inclusion_proofs_match_the_ct_reference_vectors(
    index: int, size: int, path: list[str]
) -> None:
    hashes = [leaf_hash(leaf) for leaf in VECTOR_LEAVES[:size]]
    proof = inclusion_proof(index, hashes)
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(
        hashes[index], index, size, proof, bytes.fromhex(VECTOR_ROOTS[size - 1])
    )


@pytest.mark.parametrize(("size1", "size2", "path"), VECTOR_CONSISTENCY)
def test_consistency_proofs_match_the_ct_reference_vectors(
    size1: int, size2: int, path: list[str]
) -> None:
    hashes = [leaf_hash(leaf) for leaf in VECTOR_LEAVES[:size2]]
    proof = consistency_proof(size1, hashes)
    assert [p.hex() for p in proof] == path
    root1, root2 = (bytes.fromhex(VECTOR_ROOTS[n - 1]) for n in (size1, size2))
    assert verify_consistency(size1, size2, root1, root2, proof)


def test_every_inclusion_proof_verifies_up_to_64_leaves() -> None:
    for size in range(1, 65):
        tree_root = root(LEAVES[:size])
        for index in range(size):
            proof = inclusion_proof(index, LEAVES[:size])
            assert verify_inclusion(LEAVES[index], index, size, proof, tree_root), (index, size)


def test_every_consistency_proof_verifies_up_to_64_leaves() -> None:
    for size2 in range(1, 65):
        root2 = root(LEAVES[:size2])
        for size1 in range(0, size2 + 1):
            proof = consistency_proof(size1, LEAVES[:size2])
            assert verify_consistency(size1, size2, root(LEAVES[:size1]), root2, proof)


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=64), st.data())
def test_proofs_verify_for_any_leaf_contents(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    index = data.draw(st.integers(0, len(hashes) - 1))
    size1 = data.draw(st.integers(0, len(hashes)))
    tree_root = root(hashes)
    assert verify_inclusion(
        hashes[index], index, len(hashes), inclusion_proof(index, hashes), tree_root
    )
    proof = consistency_proof(size1, hashes)
    assert verify_consistency(size1, len(hashes), root(hashes[:size1]), tree_root, proof)


def _inclusion_shape(index: int, size: int) -> tuple[bool, ...] | None:
    # Which side each sibling is on, from the generator's ranges (not the verifier).
    if not 0 <= index < size:
        return None
    return tuple(end <= index for _, end in inclusion_ranges(index, size))


def _consistency_shape(size1: int, size2: int) -> tuple[bool, tuple[bool, ...]] | None:
    if not 0 < size1 <= size2:
        return None
    sides = tuple(end <= size1 for _, end in consistency_ranges(size1, size2))
    return size1 & (size1 - 1) == 0, sides


@given(st.integers(1, 64), st.data())
def test_any_bit_flip_breaks_an_inclusion_proof(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    hashes = LEAVES[:size]
    proof, tree_root, leaf = inclusion_proof(index, hashes), root(hashes), hashes[index]
    bit = data.draw(st.integers(0, 255))
    assert not verify_inclusion(flip(leaf, bit), index, size, proof, tree_root)
    assert not verify_inclusion(leaf, index, size, proof, flip(tree_root, bit))
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
        assert not verify_inclusion(leaf, index, size, bad, tree_root)
    small_bit = data.draw(st.integers(0, 7))
    assert not verify_inclusion(leaf, index ^ (1 << small_bit), size, proof, tree_root)
    # A proof fixes only the shape of the path, so another size verifies exactly when
    # its path has the same shape — which is why size and root come from one signed head.
    other_size = size ^ (1 << small_bit)
    same_shape = _inclusion_shape(index, other_size) == _inclusion_shape(index, size)
    assert verify_inclusion(leaf, index, other_size, proof, tree_root) == same_shape


@given(st.integers(1, 64), st.data())
def test_any_bit_flip_breaks_a_consistency_proof(size2: int, data: st.DataObject) -> None:
    size1 = data.draw(st.integers(1, size2))
    hashes = LEAVES[:size2]
    root1, root2 = root(hashes[:size1]), root(hashes)
    proof = consistency_proof(size1, hashes)
    bit = data.draw(st.integers(0, 255))
    assert not verify_consistency(size1, size2, flip(root1, bit), root2, proof)
    assert not verify_consistency(size1, size2, root1, flip(root2, bit), proof)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:j], flip(proof[j], bit), *proof[j + 1 :]]
        assert not verify_consistency(size1, size2, root1, root2, bad)
    small_bit = data.draw(st.integers(0, 7))
    shape = _consistency_shape(size1, size2)
    for other1, other2 in ((size1 ^ (1 << small_bit), size2), (size1, size2 ^ (1 << small_bit))):
        same_shape = _consistency_shape(other1, other2) == shape
        assert verify_consistency(other1, other2, root1, root2, proof) == same_shape


def test_a_proof_with_an_extra_or_missing_element_fails() -> None:
    proof = inclusion_proof(3, LEAVES[:10])
    tree_root = root(LEAVES[:10])
    assert not verify_inclusion(LEAVES[3], 3, 10, proof[:-1], tree_root)
    assert not verify_inclusion(LEAVES[3], 3, 10, [*proof, LEAVES[0]], tree_root)
    cproof = consistency_proof(3, LEAVES[:10])
    root3 = root(LEAVES[:3])
    assert not verify_consistency(3, 10, root3, tree_root, cproof[:-1])
    assert not verify_consistency(3, 10, root3, tree_root, [*cproof, LEAVES[0]])


def test_verification_refuses_impossible_sizes_and_malformed_hashes() -> None:
    tree_root = root(LEAVES[:4])
    assert not verify_inclusion(LEAVES[4], 4, 4, [], tree_root)
    assert not verify_inclusion(LEAVES[0], -1, 4, [], tree_root)
    assert not verify_inclusion(LEAVES[0][:31], 0, 4, inclusion_proof(0, LEAVES[:4]), tree_root)
    assert not verify_consistency(5, 4, tree_root, tree_root, [])
    assert not verify_consistency(2, 4, root(LEAVES[:2]), tree_root, [])
    assert not verify_consistency(0, 4, tree_root, tree_root, [])
    assert verify_consistency(0, 4, EMPTY_ROOT, tree_root, [])
    assert not verify_consistency(4, 4, tree_root, tree_root, [LEAVES[0]])


def test_proof_generation_refuses_out_of_range_requests() -> None:
    with pytest.raises(InvalidRequest, match="not in a tree of size 3"):
        inclusion_proof(3, LEAVES[:3])
    with pytest.raises(InvalidRequest, match="from size 5 to size 3"):
        consistency_proof(5, LEAVES[:3])
