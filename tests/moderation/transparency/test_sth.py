"""Signed tree heads: canonical bytes, signatures, key formats."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from kabar.errors import ErrorCode, InvalidRequest
from kabar.moderation.transparency.merkle import EMPTY_ROOT
from kabar.moderation.transparency.sth import (
    LogPublicKey,
    LogSigningKey,
    SignedTreeHead,
    TreeHead,
)

ROOT = hashlib.sha256(b"some root").digest()


@pytest.fixture(scope="module")
def key() -> LogSigningKey:
    return LogSigningKey.generate()


def test_a_signed_head_verifies_with_the_log_public_key(key: LogSigningKey) -> None:
    sth = key.sign(42, ROOT, 1_700_000_000_000)
    assert sth.head.log_id == key.public_key.log_id
    assert key.public_key.verify(sth)


def test_the_signed_bytes_are_the_canonical_json_of_the_four_fields(key: LogSigningKey) -> None:
    head = key.sign(3, EMPTY_ROOT, 5).head
    assert head.signing_bytes() == (
        b'{"log_id":"' + head.log_id.encode() + b'",'
        b'"root_hash":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",'
        b'"timestamp_ms":5,"tree_size":3}'
    )


def test_log_id_is_sha256_of_the_der_public_key(key: LogSigningKey) -> None:
    public = serialization.load_pem_public_key(key.public_key.to_pem())
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.public_key.log_id == hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 43},
        {"timestamp_ms": 1_700_000_000_001},
        {"root_hash": "A" * 42 + "A"},
    ],
)
def test_changing_any_signed_field_breaks_the_signature(
    key: LogSigningKey, change: dict[str, object]
) -> None:
    data = key.sign(42, ROOT, 1_700_000_000_000).to_json()
    data.update(change)
    assert not key.public_key.verify(SignedTreeHead.from_json(data))


def test_another_logs_key_does_not_verify(key: LogSigningKey) -> None:
    sth = key.sign(1, ROOT, 1)
    other = LogSigningKey.generate()
    assert not other.public_key.verify(sth)
    # Even with the log id rewritten to match, the signature is still the first key's.
    forged = SignedTreeHead(TreeHead(1, ROOT, 1, other.public_key.log_id), sth.signature)
    assert not other.public_key.verify(forged)


def test_a_forged_signature_fails(key: LogSigningKey) -> None:
    sth = key.sign(7, ROOT, 9)
    forged = SignedTreeHead(sth.head, bytes([sth.signature[0] ^ 1]) + sth.signature[1:])
    assert not key.public_key.verify(forged)


def test_json_round_trip(key: LogSigningKey) -> None:
    sth = key.sign(12, ROOT, 99)
    again = SignedTreeHead.from_json(json.loads(json.dumps(sth.to_json())))
    assert again == sth


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tree_size": -1}, "tree_size"),
        ({"tree_size": True}, "tree_size"),
        ({"timestamp_ms": 1.5}, "timestamp_ms"),
        ({"root_hash": "AAAA"}, "root_hash must be 32 bytes"),
        ({"root_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}, "canonical"),
        ({"log_id": "ABC"}, "log_id"),
        ({"signature": "!!"}, "signature is not valid base64"),
        ({"extra": 1}, "unknown field"),
    ],
)
def test_malformed_heads_are_refused_precisely(
    key: LogSigningKey, change: dict[str, object], message: str
) -> None:
    data = key.sign(1, EMPTY_ROOT, 1).to_json()
    data.update(change)
    with pytest.raises(InvalidRequest, match=message):
        SignedTreeHead.from_json(data)


def test_missing_fields_are_named(key: LogSigningKey) -> None:
    data = key.sign(1, EMPTY_ROOT, 1).to_json()
    del data["root_hash"], data["tree_size"]
    with pytest.raises(InvalidRequest, match="lacks root_hash, tree_size"):
        SignedTreeHead.from_json(data)


def test_keys_round_trip_through_pem_and_raw_base64(key: LogSigningKey) -> None:
    sth = key.sign(5, ROOT, 5)
    for restored in (
        LogSigningKey.from_pem(key.to_pem()),
        LogSigningKey.from_pem(key.to_pem(b"secret"), b"secret"),
        LogSigningKey.from_raw_base64(key.to_raw_base64()),
    ):
        assert restored.public_key == key.public_key
        assert restored.public_key.verify(sth)
    public = key.public_key
    assert LogPublicKey.from_pem(public.to_pem()).verify(sth)
    assert LogPublicKey.from_raw_base64(public.to_raw_base64()).verify(sth)


def test_save_and_load_a_key_file(key: LogSigningKey, tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    key.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert LogSigningKey.load(path).public_key == key.public_key
    with pytest.raises(FileExistsError):
        LogSigningKey.generate().save(path)
    raw = tmp_path / "log.b64"
    raw.write_text(key.to_raw_base64() + "\n")
    assert LogSigningKey.load(raw).public_key == key.public_key


def test_bad_key_material_is_an_invalid_key_error(key: LogSigningKey) -> None:
    with pytest.raises(InvalidRequest) as bad_b64:
        LogSigningKey.from_raw_base64("AAAA")
    assert bad_b64.value.code is ErrorCode.INVALID_KEY
    with pytest.raises(InvalidRequest, match="wrong password"):
        LogSigningKey.from_pem(key.to_pem(b"secret"), b"other")
    with pytest.raises(InvalidRequest, match="PEM public key"):
        LogPublicKey.from_pem(b"not pem")
