"""This device's cryptographic identity: a vodozemac Olm ``Account`` and its signed keys.

A device has a Curve25519 identity key (for Olm) and an Ed25519 key (for
signatures), uploads both signed over ``protocol.signing.identity_payload``,
and keeps the server stocked with signed one-time keys and one fallback key so
others can open Olm sessions to it while it is offline. :class:`DeviceKeys` is
the verified public half of any device, ours or a contact's.

vodozemac keeps at most ``max_number_of_one_time_keys`` (50) unpublished keys
meaningfully, so we never generate more than that per upload; the target stock
on the server is 50 (DESIGN §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vodozemac import Account, Curve25519PublicKey, PickleException, PreKeyMessage, Session

from kabar.client.crypto.errors import InvalidSignature, MalformedPayload, StoreError
from kabar.protocol.signing import (
    identity_payload,
    is_curve25519_key,
    is_ed25519_key,
    one_time_key_payload,
    verify_ed25519,
)

ONE_TIME_KEY_TARGET = 50


def _text(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"missing or non-string field {field!r}")
    return value


@dataclass(frozen=True, slots=True)
class DeviceKeys:
    """A device's public identity whose self-signature has been checked."""

    username: str
    device_id: str
    curve25519: str
    ed25519: str
    signature: str

    @classmethod
    def from_upload(cls, username: str, device_id: str, upload: Mapping[str, Any]) -> DeviceKeys:
        """Parse ``{"curve25519","ed25519","signature"}``; raise unless correctly self-signed."""
        curve, ed, sig = (_text(upload, f) for f in ("curve25519", "ed25519", "signature"))
        if not is_curve25519_key(curve) or not is_ed25519_key(ed):
            raise MalformedPayload(f"{username}/{device_id} has malformed identity keys")
        if not verify_ed25519(ed, identity_payload(username, device_id, curve, ed), sig):
            raise InvalidSignature(f"identity keys of {username}/{device_id} are not self-signed")
        return cls(username, device_id, curve, ed, sig)

    def to_upload(self) -> dict[str, str]:
        return {"curve25519": self.curve25519, "ed25519": self.ed25519, "signature": self.signature}

    def verify_one_time_key(self, claimed: Mapping[str, Any]) -> str:
        """Check a claimed ``{"key_id","key","signature"[,"fallback"]}``; return the key.

        A claim answer may or may not say whether the key was the fallback key;
        without the flag both signed forms are accepted, since either way this
        device signed the key for session set-up.
        """
        key_id, key, sig = (_text(claimed, f) for f in ("key_id", "key", "signature"))
        if not is_curve25519_key(key):
            raise MalformedPayload(f"claimed key of {self.username}/{self.device_id} is malformed")
        flag = claimed.get("fallback")
        flags = [flag] if isinstance(flag, bool) else [False, True]
        for fallback in flags:
            payload = one_time_key_payload(self.device_id, key_id, key, fallback=fallback)
            if verify_ed25519(self.ed25519, payload, sig):
                return key
        raise InvalidSignature(f"one-time key {key_id} is not signed by {self.device_id}")


class DeviceIdentity:
    """Owns this device's Olm account; the only code that mutates it.

    ``changed`` is set whenever the account must be persisted again (keys
    generated or published, a one-time key consumed by an inbound session).
    """

    def __init__(self, username: str, device_id: str, account: Account) -> None:
        self.username = username
        self.device_id = device_id
        self._account = account
        self.changed = True

    @classmethod
    def create(cls, username: str, device_id: str) -> DeviceIdentity:
        return cls(username, device_id, Account())

    @classmethod
    def from_pickle(
        cls, username: str, device_id: str, pickle: str, pickle_key: bytes
    ) -> DeviceIdentity:
        try:
            identity = cls(username, device_id, Account.from_pickle(pickle, pickle_key))
        except PickleException as exc:
            raise StoreError("the account pickle does not open with this key") from exc
        identity.changed = False
        return identity

    def pickle(self, pickle_key: bytes) -> str:
        return self._account.pickle(pickle_key)

    @property
    def curve25519(self) -> str:
        return self._account.curve25519_key.to_base64()

    @property
    def ed25519(self) -> str:
        return self._account.ed25519_key.to_base64()

    def sign(self, message: bytes) -> str:
        return self._account.sign(message).to_base64()

    def keys(self) -> DeviceKeys:
        """Our own public identity, signed, as others will see it."""
        curve, ed = self.curve25519, self.ed25519
        signature = self.sign(identity_payload(self.username, self.device_id, curve, ed))
        return DeviceKeys(self.username, self.device_id, curve, ed, signature)

    def identity_upload(self) -> dict[str, str]:
        """The ``{"curve25519","ed25519","signature"}`` body for the key directory."""
        return self.keys().to_upload()

    def generate_one_time_keys(self, count: int) -> list[dict[str, str]]:
        """Generate up to ``count`` keys; return every unpublished key, signed.

        Keys generated earlier but never marked published (a failed upload) are
        returned again, so retrying an upload is harmless.
        """
        unpublished = len(self._account.one_time_keys)
        room = self._account.max_number_of_one_time_keys - unpublished
        if min(count, room) > 0:
            self._account.generate_one_time_keys(min(count, room))
            self.changed = True
        return [
            self._signed(key_id, key, fallback=False)
            for key_id, key in sorted(self._account.one_time_keys.items())
        ]

    def generate_fallback_key(self) -> dict[str, str]:
        """A signed fallback key: the unpublished one, or a fresh one if none is pending."""
        pending = self._account.fallback_key  # type: ignore[attr-defined]
        if not pending:
            self._account.generate_fallback_key()  # type: ignore[attr-defined]
            self.changed = True
            pending = self._account.fallback_key  # type: ignore[attr-defined]
        key_id, key = next(iter(pending.items()))
        return self._signed(key_id, key, fallback=True)

    def mark_published(self) -> None:
        """Call after the server accepted the upload: the keys stop being 'unpublished'."""
        self._account.mark_keys_as_published()
        self.changed = True

    def one_time_keys_needed(self, remaining_on_server: int) -> int:
        """How many keys to generate so the server holds the target stock again."""
        target = min(ONE_TIME_KEY_TARGET, self._account.max_number_of_one_time_keys)
        return max(0, target - max(0, remaining_on_server))

    def create_outbound_session(self, identity_key: str, one_time_key: str) -> Session:
        return self._account.create_outbound_session(
            Curve25519PublicKey.from_base64(identity_key),
            Curve25519PublicKey.from_base64(one_time_key),
        )

    def create_inbound_session(
        self, sender_key: str, message: PreKeyMessage
    ) -> tuple[Session, bytes]:
        """Open a session from a pre-key message; consumes the one-time key it used."""
        result = self._account.create_inbound_session(
            Curve25519PublicKey.from_base64(sender_key), message
        )
        self.changed = True
        return result

    def _signed(self, key_id: str, key: Curve25519PublicKey, *, fallback: bool) -> dict[str, str]:
        text = key.to_base64()
        payload = one_time_key_payload(self.device_id, key_id, text, fallback=fallback)
        return {"key_id": key_id, "key": text, "signature": self.sign(payload)}
