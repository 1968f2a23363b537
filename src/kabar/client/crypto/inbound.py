"""Inbound Megolm sessions: which keys we hold, how a better copy replaces a worse one.

Sessions are keyed by ``(conversation_id, sender_key, session_id)``; the sender
key is the Curve25519 key of the device that created the session, as
authenticated by Olm when the key arrived (or as claimed by a forwarder).

When the same session arrives twice (room key, forwarded key, backup), the copy
with the lower ``first_known_index`` wins, because it decrypts more messages
(at equal index, a copy straight from its creator beats a forwarded one) —
but only if it is *connected*: advanced to the old copy's first index it must
give the very same ratchet. Otherwise a forwarder could swap in a forged
ratchet under a genuine session id and break decryption of later messages.
A connected copy inherits the old copy's authenticity, since a hash ratchet
cannot be run backwards to forge its earlier states.

This module also keeps the replay log: which event carried each message index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vodozemac import ExportedSessionKey, InboundGroupSession

from kabar.client.crypto.errors import MalformedPayload, StoreError
from kabar.client.crypto.state import CryptoChanges, PickledInbound, SeenIndex

SessionKeyId = tuple[str, str, str]  # (conversation_id, sender_key, session_id)


@dataclass(frozen=True, slots=True)
class ExportedSession:
    """A Megolm session exported at its first known index, for forwarding and backup."""

    conversation_id: str
    sender_key: str
    session_id: str
    session_key: str
    first_known_index: int
    sender_ed25519: str = ""
    forwarded: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "sender_key": self.sender_key,
            "session_id": self.session_id,
            "session_key": self.session_key,
            "first_known_index": self.first_known_index,
            "sender_ed25519": self.sender_ed25519,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportedSession:
        """Parse an export; anything arriving this way counts as forwarded."""
        texts = ("conversation_id", "sender_key", "session_id", "session_key")
        if not all(isinstance(data.get(f), str) and data.get(f) for f in texts):
            raise MalformedPayload(f"an exported session needs {', '.join(texts)}")
        index, claimed = data.get("first_known_index", 0), data.get("sender_ed25519", "")
        if not isinstance(index, int) or isinstance(index, bool) or not isinstance(claimed, str):
            raise MalformedPayload("malformed first_known_index or sender_ed25519")
        conversation_id, sender_key, session_id, session_key = (str(data[f]) for f in texts)
        return cls(conversation_id, sender_key, session_id, session_key, index, claimed, True)


@dataclass(slots=True)
class InboundEntry:
    conversation_id: str
    sender_key: str
    session: InboundGroupSession
    sender_ed25519: str
    forwarded: bool


class InboundSessions:
    def __init__(self) -> None:
        self._entries: dict[SessionKeyId, InboundEntry] = {}
        self._seen: dict[tuple[str, str, int], str] = {}
        self._dirty: set[SessionKeyId] = set()
        self._new_seen: list[SeenIndex] = []

    def add(self, entry: InboundEntry) -> bool:
        """Keep ``entry`` if it is new, or a better copy connected to the one we hold."""
        key = (entry.conversation_id, entry.sender_key, entry.session.session_id)
        old = self._entries.get(key)
        if old is not None:
            if not _better(entry, old) or not _connected(entry.session, old):
                return False
            entry.forwarded = entry.forwarded and old.forwarded
            entry.sender_ed25519 = old.sender_ed25519 or entry.sender_ed25519
        self._entries[key] = entry
        self._dirty.add(key)
        return True

    def import_export(self, export: ExportedSession) -> bool:
        try:
            session = InboundGroupSession.import_session(ExportedSessionKey(export.session_key))
        except ValueError as exc:
            raise MalformedPayload("the exported session key does not parse") from exc
        if session.session_id != export.session_id:
            raise MalformedPayload("the exported key belongs to another session")
        # Whoever hands us an export vouches for the sender; the sender's Olm session did not.
        entry = InboundEntry(
            export.conversation_id, export.sender_key, session, export.sender_ed25519, True
        )
        return self.add(entry)

    def get(self, conversation_id: str, sender_key: str, session_id: str) -> InboundEntry | None:
        return self._entries.get((conversation_id, sender_key, session_id))

    def export(
        self, conversation_id: str, sender_key: str, session_id: str
    ) -> ExportedSession | None:
        entry = self.get(conversation_id, sender_key, session_id)
        return _export(entry) if entry else None

    def exports(self) -> list[ExportedSession]:
        """Every session we hold, each at its first known index (for a full backup)."""
        return [_export(e) for _, e in sorted(self._entries.items(), key=lambda kv: kv[0])]

    def seen_event(self, sender_key: str, session_id: str, index: int) -> str | None:
        return self._seen.get((sender_key, session_id, index))

    def record_seen(self, sender_key: str, session_id: str, index: int, event_id: str) -> None:
        if (sender_key, session_id, index) not in self._seen:
            self._seen[(sender_key, session_id, index)] = event_id
            self._new_seen.append(SeenIndex(sender_key, session_id, index, event_id))

    def drain(self, pickle_key: bytes, changes: CryptoChanges) -> None:
        for key in sorted(self._dirty):
            e = self._entries[key]
            changes.inbound.append(
                PickledInbound(
                    e.conversation_id,
                    e.sender_key,
                    key[2],
                    e.session.pickle(pickle_key),
                    e.sender_ed25519,
                    e.forwarded,
                )
            )
        changes.seen.extend(self._new_seen)
        self._dirty.clear()
        self._new_seen = []

    def restore(self, snapshot: CryptoChanges, pickle_key: bytes) -> None:
        for record in snapshot.inbound:
            try:
                session = InboundGroupSession.from_pickle(record.pickle, pickle_key)
            except ValueError as exc:
                raise StoreError("an inbound Megolm session pickle does not open") from exc
            key = (record.conversation_id, record.sender_key, record.session_id)
            self._entries[key] = InboundEntry(
                record.conversation_id,
                record.sender_key,
                session,
                record.sender_ed25519,
                record.forwarded,
            )
        for seen in snapshot.seen:
            self._seen[(seen.sender_key, seen.session_id, seen.message_index)] = seen.event_id


def _export(entry: InboundEntry) -> ExportedSession:
    first = entry.session.first_known_index
    exported = entry.session.export_at(first)
    if exported is None:  # cannot happen: a session can always export its first index
        raise StoreError("inbound session cannot export its first known index")
    return ExportedSession(
        entry.conversation_id,
        entry.sender_key,
        entry.session.session_id,
        exported.to_base64(),
        first,
        entry.sender_ed25519,
        entry.forwarded,
    )


def _better(new: InboundEntry, old: InboundEntry) -> bool:
    """Decrypts more, or the same but straight from its creator instead of forwarded."""
    new_first, old_first = new.session.first_known_index, old.session.first_known_index
    upgrade = new_first == old_first and old.forwarded and not new.forwarded
    return new_first < old_first or upgrade


def _connected(lower: InboundGroupSession, old: InboundEntry) -> bool:
    index = old.session.first_known_index
    ours, theirs = lower.export_at(index), old.session.export_at(index)
    return ours is not None and theirs is not None and ours.to_base64() == theirs.to_base64()
