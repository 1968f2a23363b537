"""Megolm conversation messages: outbound sessions with rotation, encryption, checked decryption.

Envelope (what the server stores and relays, opaque)::

    {"algorithm": "kabar.megolm.v1", "ciphertext": <megolm base64>, "session_id",
     "sender_key": <curve25519>, "franking_commitment": <base64 of 32 bytes>}

Megolm plaintext: canonical JSON ``{"conversation_id", "content", "franking_key"}``.
Each message gets a fresh 32-byte franking key ``fk``; the commitment is
``protocol.franking.commit(fk, M)`` with ``M = canonical_json(content)``
(DESIGN §4). A decrypted message whose ``M``/``fk`` do not open the envelope's
commitment is dropped as ``franking_mismatch``: showing it could let one
ciphertext say different things to different members, and a report of it
would not verify.

Rotation: a new outbound session after 100 messages, after 7 days (injectable
clock), on :meth:`MegolmMachine.rotate` (a member left or was removed), and
whenever a device the key was shared with is no longer among the recipients.
The room key travels over Olm as ``{"type": "kabar.room_key",
"conversation_id", "session_id", "session_key", "message_index"}``.

A **late share** (:meth:`MegolmMachine.room_key_at`) gives a device that was
missed — a member's new device announced only after we had sent with the
current session — the key from the index of the first message it should read,
not the current one. Its ``session_key`` is an export (``"exported": true``)
from our own inbound copy; it still comes straight from the session's creator
over Olm, so the recipient treats it exactly like a room key.
"""

from __future__ import annotations

import enum
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vodozemac import (
    ExportedSessionKey,
    GroupSession,
    InboundGroupSession,
    MegolmDecryptionException,
    MegolmMessage,
    SessionKey,
)

from kabar.client.crypto.device import DeviceKeys
from kabar.client.crypto.encoding import b64decode, b64encode
from kabar.client.crypto.errors import (
    MalformedPayload,
    SessionNeedsRotation,
    StoreError,
)
from kabar.client.crypto.inbound import ExportedSession, InboundEntry, InboundSessions
from kabar.client.crypto.olm import ToDeviceMessage
from kabar.client.crypto.state import CryptoChanges, PickledOutbound
from kabar.protocol import franking
from kabar.protocol.canonical import canonical_json

ALGORITHM = "kabar.megolm.v1"
ROOM_KEY = "kabar.room_key"


@dataclass(frozen=True, slots=True)
class RotationPolicy:
    max_messages: int = 100
    max_age_seconds: float = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class EncryptedMessage:
    envelope: dict[str, Any]
    franking_key: bytes
    message: bytes  # M, the canonical bytes of the content


class FailureReason(enum.StrEnum):
    MISSING_SESSION = "missing_session"  # ask our other devices or the backup for the key
    UNKNOWN_INDEX = "unknown_index"  # we hold the session, but only from a later index
    BAD_CIPHERTEXT = "bad_ciphertext"  # malformed, or fails Megolm's MAC or signature
    FRANKING_MISMATCH = "franking_mismatch"  # M/fk do not open the commitment: never show
    WRONG_CONVERSATION = "wrong_conversation"  # the plaintext names another conversation
    REPLAYED_INDEX = "replayed_index"  # this session index already came in another event


@dataclass(frozen=True, slots=True)
class Decrypted:
    conversation_id: str
    event_id: str
    content: dict[str, Any]
    sender_key: str
    sender_ed25519: str  # as claimed when we got the session key ("" if unknown)
    session_id: str
    message_index: int
    franking_key: bytes
    message: bytes  # M
    forwarded: bool  # the key came by forwarding/backup: sender less strongly authenticated
    ok: bool = field(default=True, init=False)


@dataclass(frozen=True, slots=True)
class DecryptionFailure:
    conversation_id: str
    event_id: str
    reason: FailureReason
    detail: str
    sender_key: str | None = None
    session_id: str | None = None
    message_index: int | None = None
    ok: bool = field(default=False, init=False)


DecryptResult = Decrypted | DecryptionFailure


@dataclass(slots=True)
class _Outbound:
    session: GroupSession
    created_at: float
    shared_with: set[str]


class MegolmMachine:
    """Outbound sessions of this device and every inbound session it holds."""

    def __init__(
        self,
        own: DeviceKeys,
        *,
        clock: Callable[[], float] = time.time,
        policy: RotationPolicy | None = None,
    ) -> None:
        self._own = own
        self._clock = clock
        self._policy = policy or RotationPolicy()
        self._outbound: dict[str, _Outbound] = {}
        self._dirty_out: set[str] = set()
        self._discarded: set[str] = set()
        self.inbound = InboundSessions()

    # -- sending ---------------------------------------------------------------

    def prepare(self, conversation_id: str, devices: Iterable[DeviceKeys]) -> list[DeviceKeys]:
        """Make the outbound session current for these recipients; return who needs its key.

        ``devices`` are all devices that should read the next message (members'
        devices and our own other devices). A session past its limits, or one
        already shared with a device no longer listed, is replaced first.
        """
        targets = [d for d in devices if d.curve25519 != self._own.curve25519]
        current = {d.curve25519 for d in targets}
        out = self._outbound.get(conversation_id)
        if out is None or self._expired(out) or out.shared_with - current:
            out = self._start(conversation_id)
        return [d for d in targets if d.curve25519 not in out.shared_with]

    def room_key(self, conversation_id: str) -> dict[str, Any]:
        """To-device content sharing the current outbound session key."""
        out = self._current(conversation_id)
        return {
            "type": ROOM_KEY,
            "conversation_id": conversation_id,
            "session_id": out.session.session_id,
            "session_key": out.session.session_key.to_base64(),
            "message_index": out.session.message_index,
        }

    def room_key_at(self, conversation_id: str, index: int) -> dict[str, Any]:
        """A room key for the current outbound session, readable from ``index`` on."""
        out = self._current(conversation_id)
        own = self.inbound.get(conversation_id, self._own.curve25519, out.session.session_id)
        exported = own.session.export_at(index) if own is not None else None
        if exported is None:
            raise SessionNeedsRotation(f"cannot export {conversation_id}'s session at {index}")
        return {
            "type": ROOM_KEY,
            "conversation_id": conversation_id,
            "session_id": out.session.session_id,
            "session_key": exported.to_base64(),
            "message_index": index,
            "exported": True,
        }

    def shared_with(self, conversation_id: str) -> frozenset[str]:
        """Curve25519 keys of the devices holding the current outbound session's key."""
        out = self._outbound.get(conversation_id)
        return frozenset(out.shared_with) if out else frozenset()

    def mark_shared(self, conversation_id: str, devices: Iterable[DeviceKeys]) -> None:
        """Record that the room key reached these devices (after the to-device send)."""
        self._current(conversation_id).shared_with.update(d.curve25519 for d in devices)
        self._dirty_out.add(conversation_id)

    def rotate(self, conversation_id: str) -> None:
        """Discard the outbound session: the next ``prepare`` starts and shares a new one."""
        if self._outbound.pop(conversation_id, None) is not None:
            self._dirty_out.discard(conversation_id)
            self._discarded.add(conversation_id)

    def outbound_session_id(self, conversation_id: str) -> str | None:
        out = self._outbound.get(conversation_id)
        return out.session.session_id if out else None

    def encrypt(self, conversation_id: str, content: Mapping[str, Any]) -> EncryptedMessage:
        out = self._current(conversation_id)
        if self._expired(out):
            raise SessionNeedsRotation(f"outbound session of {conversation_id} expired")
        franking_key = os.urandom(franking.KEY_BYTES)
        message = canonical_json(content)
        plaintext = canonical_json(
            {
                "conversation_id": conversation_id,
                "content": content,
                "franking_key": b64encode(franking_key),
            }
        )
        envelope = {
            "algorithm": ALGORITHM,
            "ciphertext": out.session.encrypt(plaintext).to_base64(),
            "session_id": out.session.session_id,
            "sender_key": self._own.curve25519,
            "franking_commitment": b64encode(franking.commit(franking_key, message)),
        }
        self._dirty_out.add(conversation_id)
        return EncryptedMessage(envelope, franking_key, message)

    # -- receiving keys ---------------------------------------------------------

    def add_room_key(self, message: ToDeviceMessage) -> bool:
        """Import a room key that arrived over Olm; its Olm sender is the session's sender."""
        content = message.content
        if message.type != ROOM_KEY:
            raise MalformedPayload(f"not a {ROOM_KEY}")
        conversation_id, session_key = content.get("conversation_id"), content.get("session_key")
        if not isinstance(conversation_id, str) or not isinstance(session_key, str):
            raise MalformedPayload("a room key needs conversation_id and session_key")
        try:
            if content.get("exported") is True:  # a late share: still from the creator over Olm
                session = InboundGroupSession.import_session(ExportedSessionKey(session_key))
            else:
                session = InboundGroupSession(SessionKey(session_key))
        except ValueError as exc:
            raise MalformedPayload("the room key's session key does not parse") from exc
        if session.session_id != content.get("session_id"):
            raise MalformedPayload("the room key's session_id does not match its key")
        entry = InboundEntry(
            conversation_id, message.sender_key, session, message.sender_ed25519, False
        )
        return self.inbound.add(entry)

    def import_session(self, export: ExportedSession) -> bool:
        """Import a forwarded or restored session; keeps the lowest connected first index."""
        return self.inbound.import_export(export)

    # -- reading ----------------------------------------------------------------

    def decrypt(
        self, conversation_id: str, event_id: str, envelope: Mapping[str, Any]
    ) -> DecryptResult:
        def fail(reason: FailureReason, detail: str, index: int | None = None) -> DecryptionFailure:
            sender = envelope.get("sender_key") if isinstance(envelope, Mapping) else None
            session = envelope.get("session_id") if isinstance(envelope, Mapping) else None
            return DecryptionFailure(
                conversation_id,
                event_id,
                reason,
                detail,
                sender if isinstance(sender, str) else None,
                session if isinstance(session, str) else None,
                index,
            )

        parsed = _parse_envelope(envelope)
        if parsed is None:
            return fail(FailureReason.BAD_CIPHERTEXT, "malformed envelope")
        sender_key, session_id, ciphertext, commitment = parsed
        entry = self.inbound.get(conversation_id, sender_key, session_id)
        if entry is None:
            return fail(FailureReason.MISSING_SESSION, "no key for this session")
        try:
            message = MegolmMessage.from_base64(ciphertext)
        except ValueError:
            return fail(FailureReason.BAD_CIPHERTEXT, "the Megolm message does not parse")
        index = message.message_index()
        if index < entry.session.first_known_index:
            return fail(FailureReason.UNKNOWN_INDEX, "key known only from a later index", index)
        try:
            plaintext = entry.session.decrypt(message).plaintext
        except MegolmDecryptionException as exc:
            return fail(FailureReason.BAD_CIPHERTEXT, str(exc), index)
        opened = _open_plaintext(plaintext)
        if opened is None:
            return fail(FailureReason.BAD_CIPHERTEXT, "malformed plaintext", index)
        claimed_conversation, content, franking_key = opened
        message_bytes = canonical_json(content)
        if not franking.opens(franking_key, message_bytes, commitment):
            return fail(FailureReason.FRANKING_MISMATCH, "content does not open commitment", index)
        if claimed_conversation != conversation_id:
            return fail(FailureReason.WRONG_CONVERSATION, "sent to another conversation", index)
        earlier = self.inbound.seen_event(sender_key, session_id, index)
        if earlier is not None and earlier != event_id:
            return fail(FailureReason.REPLAYED_INDEX, f"index already used by {earlier}", index)
        self.inbound.record_seen(sender_key, session_id, index, event_id)
        return Decrypted(
            conversation_id,
            event_id,
            content,
            sender_key,
            entry.sender_ed25519,
            session_id,
            index,
            franking_key,
            message_bytes,
            entry.forwarded,
        )

    # -- persistence ------------------------------------------------------------

    def drain(self, pickle_key: bytes, changes: CryptoChanges) -> None:
        """Move every change since the last drain into ``changes``."""
        for conversation_id in sorted(self._dirty_out):
            out = self._outbound[conversation_id]
            changes.outbound.append(
                PickledOutbound(
                    conversation_id,
                    out.session.session_id,
                    out.session.pickle(pickle_key),
                    out.created_at,
                    tuple(sorted(out.shared_with)),
                )
            )
        changes.discarded_outbound.extend(sorted(self._discarded))
        self._dirty_out.clear()
        self._discarded.clear()
        self.inbound.drain(pickle_key, changes)

    def restore(self, snapshot: CryptoChanges, pickle_key: bytes) -> None:
        for record in snapshot.outbound:
            try:
                session = GroupSession.from_pickle(record.pickle, pickle_key)
            except ValueError as exc:
                raise StoreError("an outbound Megolm session pickle does not open") from exc
            self._outbound[record.conversation_id] = _Outbound(
                session, record.created_at, set(record.shared_with)
            )
        self.inbound.restore(snapshot, pickle_key)

    # -- internals --------------------------------------------------------------

    def _current(self, conversation_id: str) -> _Outbound:
        out = self._outbound.get(conversation_id)
        if out is None:
            raise SessionNeedsRotation(f"no outbound session for {conversation_id}: prepare first")
        return out

    def _expired(self, out: _Outbound) -> bool:
        too_many = out.session.message_index >= self._policy.max_messages
        return too_many or self._clock() - out.created_at >= self._policy.max_age_seconds

    def _start(self, conversation_id: str) -> _Outbound:
        session = GroupSession()
        out = _Outbound(session, self._clock(), set())
        self._outbound[conversation_id] = out
        self._dirty_out.add(conversation_id)
        self._discarded.discard(conversation_id)
        # Our own device must read its own messages later (history, other devices' echoes).
        inbound = InboundGroupSession(session.session_key)
        own = self._own
        self.inbound.add(InboundEntry(conversation_id, own.curve25519, inbound, own.ed25519, False))
        return out


def _parse_envelope(envelope: object) -> tuple[str, str, str, bytes] | None:
    if not isinstance(envelope, Mapping) or envelope.get("algorithm") != ALGORITHM:
        return None
    fields = [envelope.get(f) for f in ("sender_key", "session_id", "ciphertext")]
    if not all(isinstance(f, str) and f for f in fields):
        return None
    try:
        commitment = b64decode(
            envelope.get("franking_commitment"), length=franking.COMMITMENT_BYTES
        )
    except MalformedPayload:
        return None
    sender_key, session_id, ciphertext = (str(f) for f in fields)
    return sender_key, session_id, ciphertext, commitment


def _open_plaintext(plaintext: bytes) -> tuple[str, dict[str, Any], bytes] | None:
    try:
        value = json.loads(plaintext)
        franking_key = b64decode(value["franking_key"], length=franking.KEY_BYTES)
    except (ValueError, KeyError, TypeError, MalformedPayload):
        return None
    conversation_id, content = value.get("conversation_id"), value.get("content")
    if not isinstance(conversation_id, str) or not isinstance(content, dict):
        return None
    try:
        canonical_json(content)
    except ValueError:  # floats have no canonical form, so they cannot be committed
        return None
    return conversation_id, content, franking_key
