"""Olm to-device encryption: one device to another, used to share and forward Megolm keys.

Wire format of one to-device payload (relayed opaquely by the server)::

    {"algorithm": "kabar.olm.v1", "sender_key": <sender curve25519>,
     "ciphertext": {<recipient curve25519>: {"type": 0|1, "body": <base64>}}}

Type 0 is a pre-key message (it opens a session), type 1 a normal one. The
plaintext is canonical JSON naming both ends::

    {"type", "content", "sender", "sender_device", "sender_ed25519",
     "recipient", "recipient_device", "recipient_ed25519"}

Olm authenticates only the sender's Curve25519 key. Decryption therefore
rejects a plaintext whose recipient fields are not this device (someone
re-sent a message meant for another device) or whose sender fields do not
match the directory's keys for that device (someone claims another's name),
as Matrix's Olm does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vodozemac import AnyOlmMessage, DecodeException, OlmDecryptionException, Session

from kabar.client.crypto.device import DeviceIdentity, DeviceKeys
from kabar.client.crypto.directory import DeviceDirectory
from kabar.client.crypto.encoding import b64decode, b64encode
from kabar.client.crypto.errors import (
    MalformedPayload,
    MissingOlmSession,
    OlmDecryptionFailed,
    RejectedPayload,
    StoreError,
    UnknownSenderDevice,
)
from kabar.client.crypto.state import PickledOlmSession
from kabar.protocol.canonical import canonical_json

ALGORITHM = "kabar.olm.v1"
_FIELDS = ("type", "sender", "sender_device", "sender_ed25519")
_RECIPIENT_FIELDS = ("recipient", "recipient_device", "recipient_ed25519")


@dataclass(frozen=True, slots=True)
class ToDeviceMessage:
    """A decrypted to-device message whose sender and addressing were checked."""

    type: str
    content: dict[str, Any]
    sender: str
    sender_device: str
    sender_key: str
    sender_ed25519: str


@dataclass(frozen=True, slots=True)
class PendingToDevice:
    """Decrypted, but from a device not yet in the directory: not trusted until confirmed."""

    sender_key: str
    plaintext: dict[str, Any]

    @property
    def sender(self) -> str:
        return str(self.plaintext["sender"])

    @property
    def sender_device(self) -> str:
        return str(self.plaintext["sender_device"])


@dataclass(slots=True)
class _Entry:
    session: Session
    last_used: int


class OlmMachine:
    """This device's Olm sessions, grouped by the peer's Curve25519 key."""

    def __init__(self, identity: DeviceIdentity, directory: DeviceDirectory) -> None:
        self._identity = identity
        self._directory = directory
        self._sessions: dict[str, list[_Entry]] = {}
        self._clock = 0
        self._dirty: set[tuple[str, str]] = set()

    @classmethod
    def restore(
        cls,
        identity: DeviceIdentity,
        directory: DeviceDirectory,
        records: Iterable[PickledOlmSession],
        pickle_key: bytes,
    ) -> OlmMachine:
        machine = cls(identity, directory)
        for record in records:
            try:
                session = Session.from_pickle(record.pickle, pickle_key)
            except ValueError as exc:
                raise StoreError("an Olm session pickle does not open") from exc
            machine._sessions.setdefault(record.peer_curve25519, []).append(
                _Entry(session, record.last_used)
            )
            machine._clock = max(machine._clock, record.last_used)
        for entries in machine._sessions.values():
            entries.sort(key=lambda e: -e.last_used)
        return machine

    def has_session(self, device: DeviceKeys) -> bool:
        return bool(self._sessions.get(device.curve25519))

    def devices_without_session(self, devices: Iterable[DeviceKeys]) -> list[DeviceKeys]:
        """Recipients the SDK must claim a one-time key for before encrypting."""
        return [d for d in devices if not self.has_session(d)]

    def create_outbound_session(self, device: DeviceKeys, claimed_key: Mapping[str, Any]) -> None:
        """Open a session to ``device`` with a claimed key, after checking its signature."""
        one_time_key = device.verify_one_time_key(claimed_key)
        session = self._identity.create_outbound_session(device.curve25519, one_time_key)
        self._remember(device.curve25519, session)

    def encrypt(
        self, content: Mapping[str, Any], recipients: Iterable[DeviceKeys]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """One payload per ``(username, device_id)``; raises if any recipient lacks a session."""
        targets = list(recipients)
        missing = self.devices_without_session(targets)
        if missing:
            raise MissingOlmSession([(d.username, d.device_id) for d in missing])
        event_type = content.get("type")
        if not isinstance(event_type, str):
            raise MalformedPayload("to-device content needs a string 'type'")
        payloads: dict[tuple[str, str], dict[str, Any]] = {}
        for device in targets:
            plaintext = canonical_json(self._plaintext(event_type, dict(content), device))
            entry = self._sessions[device.curve25519][0]
            message_type, body = entry.session.encrypt(plaintext).to_parts()
            self._touch(device.curve25519, entry)
            payloads[(device.username, device.device_id)] = {
                "algorithm": ALGORITHM,
                "sender_key": self._identity.curve25519,
                "ciphertext": {device.curve25519: {"type": message_type, "body": b64encode(body)}},
            }
        return payloads

    def decrypt(self, payload: Mapping[str, Any]) -> ToDeviceMessage:
        """Decrypt and check one payload addressed to this device."""
        sender_key, message_type, body = self._own_ciphertext(payload)
        plaintext = self._parse(self._decrypt(sender_key, message_type, body))
        self._check_recipient(plaintext)
        return self.confirm(PendingToDevice(sender_key, plaintext))

    def confirm(self, pending: PendingToDevice) -> ToDeviceMessage:
        """Release a pending message once the directory knows its sender device."""
        known = self._directory.get(pending.sender, pending.sender_device)
        if known is None:
            raise UnknownSenderDevice(pending)
        text = pending.plaintext
        if known.curve25519 != pending.sender_key or known.ed25519 != text["sender_ed25519"]:
            raise RejectedPayload(
                f"sender keys do not match {pending.sender}/{pending.sender_device}"
            )
        return ToDeviceMessage(
            type=text["type"],
            content=text["content"],
            sender=known.username,
            sender_device=known.device_id,
            sender_key=known.curve25519,
            sender_ed25519=known.ed25519,
        )

    def changes(self, pickle_key: bytes) -> list[PickledOlmSession]:
        """Pickles of every session touched since the last call."""
        out = []
        for peer, session_id in sorted(self._dirty):
            for entry in self._sessions.get(peer, []):
                if entry.session.session_id == session_id:
                    out.append(
                        PickledOlmSession(
                            peer, session_id, entry.session.pickle(pickle_key), entry.last_used
                        )
                    )
        self._dirty.clear()
        return out

    def _plaintext(
        self, event_type: str, content: dict[str, Any], to: DeviceKeys
    ) -> dict[str, Any]:
        me = self._identity
        return {
            "type": event_type,
            "content": content,
            "sender": me.username,
            "sender_device": me.device_id,
            "sender_ed25519": me.ed25519,
            "recipient": to.username,
            "recipient_device": to.device_id,
            "recipient_ed25519": to.ed25519,
        }

    def _own_ciphertext(self, payload: Mapping[str, Any]) -> tuple[str, int, bytes]:
        if payload.get("algorithm") != ALGORITHM:
            raise MalformedPayload(f"not a {ALGORITHM} payload")
        sender_key, ciphertexts = payload.get("sender_key"), payload.get("ciphertext")
        if not isinstance(sender_key, str) or not isinstance(ciphertexts, dict):
            raise MalformedPayload("payload needs 'sender_key' and a 'ciphertext' object")
        mine = ciphertexts.get(self._identity.curve25519)
        if not isinstance(mine, dict):
            raise RejectedPayload("payload has no ciphertext for this device")
        message_type = mine.get("type")
        if message_type not in (0, 1) or isinstance(message_type, bool):
            raise MalformedPayload("ciphertext type must be 0 or 1")
        return sender_key, message_type, b64decode(mine.get("body"))

    def _decrypt(self, sender_key: str, message_type: int, body: bytes) -> bytes:
        try:
            message = AnyOlmMessage.from_parts(message_type, body)
        except (DecodeException, ValueError) as exc:
            raise OlmDecryptionFailed("the Olm message does not parse") from exc
        pre_key = message.to_pre_key() if message_type == 0 else None
        for entry in self._sessions.get(sender_key, []):
            if pre_key is not None and not entry.session.session_matches(pre_key):
                continue
            try:
                plaintext = entry.session.decrypt(message)
            except OlmDecryptionException:
                continue
            self._touch(sender_key, entry)
            return plaintext
        if pre_key is None:
            raise OlmDecryptionFailed(f"no Olm session with {sender_key} decrypts this message")
        try:
            session, plaintext = self._identity.create_inbound_session(sender_key, pre_key)
        except ValueError as exc:
            raise OlmDecryptionFailed("cannot open an Olm session from this message") from exc
        self._remember(sender_key, session)
        return plaintext

    def _parse(self, plaintext: bytes) -> dict[str, Any]:
        try:
            value = json.loads(plaintext)
        except ValueError as exc:
            raise MalformedPayload("to-device plaintext is not JSON") from exc
        if not isinstance(value, dict) or not isinstance(value.get("content"), dict):
            raise MalformedPayload("to-device plaintext needs a 'content' object")
        for field in _FIELDS + _RECIPIENT_FIELDS:
            if not isinstance(value.get(field), str):
                raise MalformedPayload(f"to-device plaintext needs a string {field!r}")
        if value["content"].get("type", value["type"]) != value["type"]:
            raise MalformedPayload("to-device content type disagrees with the plaintext type")
        return value

    def _check_recipient(self, plaintext: Mapping[str, Any]) -> None:
        me = self._identity
        expected = (me.username, me.device_id, me.ed25519)
        if tuple(plaintext[f] for f in _RECIPIENT_FIELDS) != expected:
            raise RejectedPayload("to-device message was addressed to another device")

    def _remember(self, peer: str, session: Session) -> None:
        entry = _Entry(session, 0)
        self._sessions.setdefault(peer, []).insert(0, entry)
        self._touch(peer, entry)

    def _touch(self, peer: str, entry: _Entry) -> None:
        self._clock += 1
        entry.last_used = self._clock
        entries = self._sessions[peer]
        entries.sort(key=lambda e: -e.last_used)
        self._dirty.add((peer, entry.session.session_id))
