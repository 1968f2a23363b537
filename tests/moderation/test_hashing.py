"""PDQ and SHA-256 matching of uploads against listed hashes."""

from __future__ import annotations

import pytest
from PIL import Image, ImageEnhance

from kabar.errors import InvalidRequest
from kabar.moderation.hashing import (
    HashMatcher,
    ListedHash,
    UploadHashes,
    decode_image,
    hamming,
    hash_upload,
    pdq_dihedral,
    pdq_hash,
    sha256_hex,
)
from support.images import encode, photo

ORIGINAL = photo(1)
ORIGINAL_BYTES = encode(ORIGINAL)


@pytest.fixture(scope="module")
def matcher() -> HashMatcher:
    value, quality = pdq_hash(ORIGINAL_BYTES)
    assert quality >= 50
    return HashMatcher([ListedHash("pdq", value, "provider-a", "open_case")])


def test_a_brightened_resized_rotated_jpeg_copy_matches(matcher: HashMatcher) -> None:
    edited = ImageEnhance.Brightness(ORIGINAL).enhance(1.15).resize((400, 300))
    edited = edited.transpose(Image.Transpose.ROTATE_90)
    result = matcher.match_image(encode(edited, "JPEG"))
    assert result.action == "open_case"
    assert result.matches[0].distance <= 31


def test_a_mirrored_copy_matches(matcher: HashMatcher) -> None:
    mirrored = ORIGINAL.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    # As is, the mirror image is far from the listed hash; one of its variants is close.
    assert hamming(pdq_hash(encode(mirrored))[0], pdq_hash(ORIGINAL_BYTES)[0]) > 31
    assert matcher.match_image(encode(mirrored)).action == "open_case"


def test_unrelated_photos_do_not_match(matcher: HashMatcher) -> None:
    value, _ = pdq_hash(ORIGINAL_BYTES)
    everything = HashMatcher([ListedHash("pdq", value, "a", "open_case")], pdq_threshold=256)
    for seed in range(2, 10):
        unrelated = encode(photo(seed))
        assert matcher.match_image(unrelated).matches == (), seed
        # Not a near miss: unrelated images sit around half the 256 bits apart.
        assert everything.match_image(unrelated).matches[0].distance > 80, seed


def test_the_dihedral_variants_include_the_image_as_is() -> None:
    variants, quality = pdq_dihedral(ORIGINAL_BYTES)
    assert len(variants) == 8
    assert len(set(variants)) == 8
    assert variants[0] == pdq_hash(ORIGINAL_BYTES)[0]
    assert quality == pdq_hash(ORIGINAL_BYTES)[1]


def test_a_large_image_is_shrunk_before_hashing() -> None:
    big = encode(ORIGINAL.resize((2560, 1920)), "JPEG")
    assert decode_image(big).shape == (384, 512, 3)
    assert hamming(pdq_hash(big)[0], pdq_hash(ORIGINAL_BYTES)[0]) <= 10


def test_sha256_matches_only_the_exact_file() -> None:
    data = b"%PDF-1.7 some listed document"
    matcher = HashMatcher([ListedHash("sha256", sha256_hex(data), "provider-b", "auto_remove")])
    result = matcher.match_file(data)
    assert result.action == "auto_remove"
    assert result.matches[0].listed.list == "provider-b"
    assert matcher.match_file(data + b" ").matches == ()


def test_the_strongest_action_wins_and_all_matches_are_reported() -> None:
    value, _ = pdq_hash(ORIGINAL_BYTES)
    matcher = HashMatcher(
        [
            ListedHash("pdq", value, "provider-a", "open_case"),
            ListedHash("sha256", sha256_hex(ORIGINAL_BYTES), "provider-b", "auto_remove"),
        ]
    )
    result = matcher.match_image(ORIGINAL_BYTES)
    assert result.action == "auto_remove"
    assert [m.listed.list for m in result.matches] == ["provider-b", "provider-a"]


def test_the_pdq_threshold_is_configurable() -> None:
    value, _ = pdq_hash(ORIGINAL_BYTES)
    mirrored = encode(ORIGINAL.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    distance = HashMatcher([ListedHash("pdq", value, "a", "open_case")]).match_image(mirrored)
    best = distance.matches[0].distance
    strict = HashMatcher([ListedHash("pdq", value, "a", "open_case")], pdq_threshold=best - 1)
    assert strict.match_image(mirrored).matches == ()


def test_low_quality_hashes_are_not_matched() -> None:
    flat = encode(Image.new("RGB", (300, 300), (40, 90, 200)))
    value, quality = pdq_hash(flat)
    assert quality < 50
    matcher = HashMatcher([ListedHash("pdq", value, "a", "open_case")])
    other_flat = encode(Image.new("RGB", (300, 300), (200, 30, 30)))
    assert matcher.match_image(other_flat).matches == ()


def test_images_in_other_modes_are_hashed_as_rgb() -> None:
    rgba = ORIGINAL.convert("RGBA")
    palette = ORIGINAL.convert("P")
    reference = pdq_hash(ORIGINAL_BYTES)[0]
    assert hamming(pdq_hash(encode(rgba))[0], reference) <= 10
    assert hamming(pdq_hash(encode(palette))[0], reference) <= 31


def test_non_images_are_refused_for_pdq() -> None:
    with pytest.raises(InvalidRequest, match="not a readable image"):
        hash_upload(b"plain text", image=True)
    assert hash_upload(b"plain text", image=False) == UploadHashes(sha256_hex(b"plain text"))


def test_a_declared_huge_image_is_refused_before_decoding() -> None:
    huge = encode(Image.new("1", (9000, 9000)))
    with pytest.raises(InvalidRequest, match="too large"):
        pdq_hash(huge)


def test_hamming_counts_differing_bits() -> None:
    assert hamming("00" * 32, "00" * 32) == 0
    assert hamming("ff" * 32, "00" * 32) == 256
    assert hamming("0f" + "00" * 31, "01" + "00" * 31) == 3


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("md5", "ab" * 32, "x", "open_case"), "type 'md5'"),
        (("pdq", "ab" * 31, "x", "open_case"), "not 64 lower-case"),
        (("pdq", "AB" * 32, "x", "open_case"), "not 64 lower-case"),
        (("pdq", "ab" * 32, "", "open_case"), "list must be a name"),
        (("pdq", "ab" * 32, "x", "delete"), "action 'delete'"),
    ],
)
def test_listed_hashes_are_validated(row: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        ListedHash(*row)  # type: ignore[arg-type]
