from __future__ import annotations

import hashlib
import os

import pytest

from kabar.client.crypto.attachments import (
    AttachmentDescriptor,
    decrypt_attachment,
    encrypt_attachment,
)
from kabar.client.crypto.errors import AttachmentTampered, MalformedPayload

PHOTO = os.urandom(5000) + b"CANARY-PIXELS"


def test_round_trip_through_the_message_descriptor() -> None:
    ciphertext, descriptor = encrypt_attachment(PHOTO, name="cat.jpg", mime="image/jpeg")
    assert b"CANARY-PIXELS" not in ciphertext
    wire = descriptor.to_json()
    assert set(wire) == {"key", "nonce", "sha256", "size", "name", "mime"}
    assert wire["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert wire["size"] == len(PHOTO)
    assert decrypt_attachment(ciphertext, AttachmentDescriptor.from_json(wire)) == PHOTO


def test_every_file_gets_a_fresh_key_and_nonce() -> None:
    first_ct, first = encrypt_attachment(PHOTO, name="a")
    second_ct, second = encrypt_attachment(PHOTO, name="a")
    assert first.key != second.key
    assert first.nonce != second.nonce
    assert first_ct != second_ct  # no convergent encryption, so no ciphertext deduplication


def test_tampered_ciphertext_is_detected() -> None:
    ciphertext, descriptor = encrypt_attachment(PHOTO, name="cat.jpg")
    flipped = bytearray(ciphertext)
    flipped[100] ^= 1
    with pytest.raises(AttachmentTampered):
        decrypt_attachment(bytes(flipped), descriptor)
    with pytest.raises(AttachmentTampered):
        decrypt_attachment(ciphertext[:-1], descriptor)


def test_descriptor_hash_or_size_mismatch_is_detected() -> None:
    ciphertext, descriptor = encrypt_attachment(PHOTO, name="cat.jpg")
    wrong_hash = {**descriptor.to_json(), "sha256": hashlib.sha256(b"other").hexdigest()}
    with pytest.raises(AttachmentTampered):
        decrypt_attachment(ciphertext, AttachmentDescriptor.from_json(wrong_hash))
    wrong_size = {**descriptor.to_json(), "size": len(PHOTO) + 1}
    with pytest.raises(AttachmentTampered):
        decrypt_attachment(ciphertext, AttachmentDescriptor.from_json(wrong_size))


def test_malformed_descriptor_is_refused() -> None:
    _, descriptor = encrypt_attachment(b"x", name="x")
    with pytest.raises(MalformedPayload):
        AttachmentDescriptor.from_json({**descriptor.to_json(), "key": "short"})
    with pytest.raises(MalformedPayload):
        AttachmentDescriptor.from_json({**descriptor.to_json(), "size": -1})
