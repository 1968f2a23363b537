"""Safety numbers and device-change detection: how people check they talk to each other.

A **safety number** (as in Signal) is 60 decimal digits in 12 groups of 5 that
both parties compute from both accounts' device Ed25519 identity keys. Each
account contributes 30 digits: iterated SHA-512 (5,200 rounds, like Signal)
over a versioned, canonical encoding of the username and its *sorted* keys,
so device order does not matter; the two halves are themselves sorted, so
both sides see the same number. Any added, removed or changed device changes
it, which is the point: compare it out of band once, and re-compare when it
changes.

The **device tracker** is trust on first use: :func:`diff_devices` compares the
device list we knew for a contact with the one the server reports now, so the
SDK can warn before the next send (DESIGN §4).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kabar.client.crypto.device import DeviceKeys
from kabar.protocol.canonical import canonical_json

_VERSION = b"kabar.safety.v1\x00"
_ITERATIONS = 5200
_CHUNKS = 6  # 6 chunks x 5 digits = 30 digits per account


def account_fingerprint(username: str, ed25519_keys: Iterable[str]) -> str:
    """The 30-digit half of a safety number that one account contributes."""
    data = _VERSION + canonical_json({"account": username, "ed25519": sorted(set(ed25519_keys))})
    digest = data
    for _ in range(_ITERATIONS):
        digest = hashlib.sha512(digest + data).digest()
    chunks = (digest[i * 5 : i * 5 + 5] for i in range(_CHUNKS))
    return "".join(f"{int.from_bytes(chunk, 'big') % 100_000:05d}" for chunk in chunks)


def safety_number(
    username_a: str, keys_a: Iterable[str], username_b: str, keys_b: Iterable[str]
) -> str:
    """60 digits in 12 space-separated groups of 5; symmetric in the two accounts."""
    halves = sorted(
        [account_fingerprint(username_a, keys_a), account_fingerprint(username_b, keys_b)]
    )
    digits = "".join(halves)
    return " ".join(digits[i : i + 5] for i in range(0, len(digits), 5))


def same_safety_number(shown: str, typed: str) -> bool:
    """Compare a displayed number with one read back, ignoring spacing."""
    return "".join(shown.split()) == "".join(typed.split())


@dataclass(frozen=True, slots=True)
class DeviceChanges:
    """What changed in a contact's device list since we last looked."""

    added: tuple[DeviceKeys, ...] = ()
    # Same device id, different identity keys: the server refuses this for honest
    # devices (identity keys are immutable), so treat it as a red flag.
    changed: tuple[DeviceKeys, ...] = ()
    removed: tuple[DeviceKeys, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def diff_devices(
    previous: Mapping[str, DeviceKeys], current: Mapping[str, DeviceKeys]
) -> DeviceChanges:
    """Compare two ``device_id -> DeviceKeys`` maps of one account."""

    def same(a: DeviceKeys, b: DeviceKeys) -> bool:
        return (a.curve25519, a.ed25519) == (b.curve25519, b.ed25519)

    return DeviceChanges(
        added=tuple(current[d] for d in sorted(current.keys() - previous.keys())),
        changed=tuple(
            current[d]
            for d in sorted(current.keys() & previous.keys())
            if not same(current[d], previous[d])
        ),
        removed=tuple(previous[d] for d in sorted(previous.keys() - current.keys())),
    )
