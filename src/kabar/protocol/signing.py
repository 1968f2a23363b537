"""What a device signs with its Ed25519 identity key, and how signatures are checked.

* Identity keys: the canonical JSON of ``{"account": username, "device_id",
  "curve25519", "ed25519"}``.
* One-time and fallback keys: the canonical JSON of ``{"device_id", "key_id",
  "key", "fallback": bool}``.

Signatures and keys are unpadded standard base64, as vodozemac writes them.
"""

from __future__ import annotations

from vodozemac import (
    Curve25519PublicKey,
    Ed25519PublicKey,
    Ed25519Signature,
    KeyException,
    SignatureException,
)

from kabar.protocol.canonical import canonical_json


def identity_payload(account: str, device_id: str, curve25519: str, ed25519: str) -> bytes:
    return canonical_json(
        {"account": account, "device_id": device_id, "curve25519": curve25519, "ed25519": ed25519}
    )


def one_time_key_payload(device_id: str, key_id: str, key: str, *, fallback: bool) -> bytes:
    return canonical_json(
        {"device_id": device_id, "key_id": key_id, "key": key, "fallback": fallback}
    )


def verify_ed25519(public_key: str, message: bytes, signature: str) -> bool:
    """True only if ``signature`` is ``public_key``'s valid signature of ``message``."""
    try:
        key = Ed25519PublicKey.from_base64(public_key)
        key.verify_signature(message, Ed25519Signature.from_base64(signature))
    except (KeyException, SignatureException, ValueError):
        return False
    return True


def is_curve25519_key(value: str) -> bool:
    try:
        Curve25519PublicKey.from_base64(value)
    except (KeyException, ValueError):
        return False
    return True


def is_ed25519_key(value: str) -> bool:
    try:
        Ed25519PublicKey.from_base64(value)
    except (KeyException, ValueError):
        return False
    return True
