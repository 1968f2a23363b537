"""Processing what the server delivers: to-device key traffic and conversation events.

For each item of a :class:`~kabar.client.stream.SyncBatch`, in order:

* **to-device** (Olm): decrypt and check the sender (fetching an unknown
  sender's device list first), then act on the content — import a room key,
  answer a key request from one of our own *verified* devices, accept a
  forwarded key from one — and retry every event that was waiting for that
  session.
* **message**: Megolm-decrypt (the crypto layer checks the franking
  commitment, the conversation and replays), then check that the Curve25519
  key the session came from belongs to the device the server says sent the
  event (``docs/e2e.md``: otherwise a server could put one member's words in
  another's mouth). The result is kept in the local history — or, if it does
  not decrypt, as an undecrypted event with its reason.
* **article.published** (a followed public account's new article): handed on as
  an :class:`~kabar.client.models.ArticlePublished` update — unless a moderator
  has removed the article since, which leaves only ``{"article_id", "removed"}``.
* **membership**: keep rosters current; rotate our outbound session when a
  member leaves or is removed; give a member's new device (or a new member)
  the key of anything we already sent after it was announced (a late share).

At the end of a batch, every session still missing is looked for in the key
backup and requested from our own other devices (once per session).
"""

from __future__ import annotations

import logging
from typing import Any

from kabar.client.api import Api
from kabar.client.crypto.errors import CryptoError, UnknownSenderDevice
from kabar.client.crypto.forwarding import (
    FORWARDED_KEY,
    KEY_REQUEST,
    KeyRequest,
    accept_forwarded_key,
    answer_request,
)
from kabar.client.crypto.megolm import ALGORITHM as MEGOLM_ALGORITHM
from kabar.client.crypto.megolm import ROOM_KEY, Decrypted
from kabar.client.crypto.olm import ALGORITHM as OLM_ALGORITHM
from kabar.client.crypto.olm import ToDeviceMessage
from kabar.client.devices import DeviceTracker
from kabar.client.engine import CryptoEngine
from kabar.client.history import HistoryEntry
from kabar.client.keybackup import BackupManager, SessionRef
from kabar.client.members import Rosters
from kabar.client.models import (
    ArticlePublished,
    Message,
    Notice,
    SenderTrust,
    UnableToDecrypt,
    Update,
    UtdReason,
)
from kabar.client.sharing import KeySharing
from kabar.client.stream import StreamItem

log = logging.getLogger(__name__)

MESSAGE_DELETED = "message.deleted"
ARTICLE_PUBLISHED = "article.published"
LEAVES = ("member.left", "member.removed")
ARRIVALS = ("member.joined", "member.devices_changed")


class Receiver:
    def __init__(
        self,
        api: Api,
        engine: CryptoEngine,
        tracker: DeviceTracker,
        sharing: KeySharing,
        rosters: Rosters,
        backup: BackupManager,
        device_created_at: int = 0,
    ) -> None:
        self._api = api
        self._engine = engine
        self._tracker = tracker
        self._sharing = sharing
        self._rosters = rosters
        self._backup = backup
        self.device_created_at = device_created_at
        self._requested: set[SessionRef] = set()
        self._missing: set[SessionRef] = set()
        self.used_one_time_keys = False

    @property
    def _me(self) -> str:
        return self._engine.identity.username

    async def process(self, items: list[StreamItem]) -> list[Update]:
        """Handle one batch in order; the caller wraps it in one store transaction."""
        self._missing = set()
        updates: list[Update] = []
        for item in items:
            if item.kind == "to_device":
                updates += await self._to_device(item.body)
            else:
                updates += await self._event(item.body)
        updates += await self._recover_missing()
        return updates

    # -- to-device ---------------------------------------------------------------------

    async def _to_device(self, body: dict[str, Any]) -> list[Update]:
        if body.get("type") != OLM_ALGORITHM or not isinstance(body.get("content"), dict):
            return []
        engine = self._engine
        try:
            try:
                message = engine.olm.decrypt(body["content"])
            except UnknownSenderDevice as unknown:
                await self._tracker.refresh([unknown.pending.sender], force=True)
                message = engine.olm.confirm(unknown.pending)
        except CryptoError as exc:  # undecryptable, misaddressed, forged sender, malformed
            log.warning("dropping a to-device message from %s: %s", body.get("sender"), exc)
            return []
        finally:
            self.used_one_time_keys |= engine.identity.changed
            engine.save()
        try:
            return await self._dispatch(message)
        except CryptoError as exc:
            log.warning("dropping a malformed %s from %s: %s", message.type, message.sender, exc)
            return []

    async def _dispatch(self, message: ToDeviceMessage) -> list[Update]:
        engine = self._engine
        content = message.content
        own = message.sender == self._me and engine.directory.is_verified(
            message.sender, message.sender_device
        )
        if message.type == ROOM_KEY:
            if engine.megolm.add_room_key(message):
                conversation_id, session_id = content["conversation_id"], content["session_id"]
                self._backup.queue(conversation_id, message.sender_key, session_id)
                engine.save()
                return await self.retry(conversation_id, message.sender_key, session_id)
        elif message.type == KEY_REQUEST:
            request = KeyRequest.from_content(content)
            answer = answer_request(request, engine.megolm.inbound, from_own_verified_device=own)
            device = engine.directory.get(message.sender, message.sender_device)
            if answer is not None and device is not None:
                await self._sharing.send_encrypted(answer, [device])
        elif message.type == FORWARDED_KEY:
            export = accept_forwarded_key(message, from_own_verified_device=own)
            if export is not None and engine.megolm.import_session(export):
                engine.save()
                return await self.retry(
                    export.conversation_id, export.sender_key, export.session_id
                )
        return []

    # -- events ------------------------------------------------------------------------

    async def _event(self, event: dict[str, Any]) -> list[Update]:
        kind = event.get("type")
        if kind == "message":
            if (event.get("content") or {}).get("redacted"):
                # Deleted for everyone before we saw it: nothing to show or decrypt.
                self._engine.store.delete_message(str(event.get("event_id")))
                return []
            if self._engine.store.messages.has(str(event.get("event_id"))):
                return []  # our own send, or already handled
            return [await self._decrypt(event)]
        if kind == ARTICLE_PUBLISHED:
            if (event.get("content") or {}).get("removed"):
                return []  # a moderator removed the article: its event is redacted
            return [ArticlePublished.from_event(event)]
        conversation_id = event.get("conversation_id")
        if not isinstance(conversation_id, str):
            return []
        if kind == MESSAGE_DELETED:
            # The tombstone every client honours: forget our decrypted copy too.
            self._engine.store.delete_message(str((event.get("content") or {}).get("event_id")))
        if kind == "conversation.created":
            self._rosters.created(event)
        self._rosters.apply(event)
        username = (event.get("content") or {}).get("username")
        if kind in LEAVES:
            self._sharing.rotate(conversation_id)
            self._engine.save()
        elif kind in ARRIVALS and isinstance(username, str):
            self._tracker.mark_stale(username)
            if self._engine.megolm.outbound_session_id(conversation_id) is not None:
                await self._tracker.refresh([username])
                devices = self._tracker.devices_of([username])
                await self._sharing.late_share(conversation_id, devices, int(event["seq"]))
        return [
            Notice(
                event_id=str(event.get("event_id")),
                conversation_id=conversation_id,
                type=str(kind),
                sender=str(event.get("sender") or ""),
                ts=int(event.get("ts") or 0),
                content=dict(event.get("content") or {}),
            )
        ]

    async def _decrypt(self, event: dict[str, Any]) -> Message | UnableToDecrypt:
        engine = self._engine
        conversation_id, envelope = event["conversation_id"], event.get("content") or {}
        if envelope.get("algorithm") != MEGOLM_ALGORITHM:
            return self._undecrypted(event, UtdReason.UNSUPPORTED, "unknown algorithm")
        result = engine.megolm.decrypt(conversation_id, event["event_id"], envelope)
        if not isinstance(result, Decrypted):
            reason = UtdReason(result.reason.value)
            session = ""
            if reason.waiting and result.sender_key and result.session_id:
                self._missing.add((conversation_id, result.sender_key, result.session_id))
                session = f"{result.sender_key}|{result.session_id}"
            return self._undecrypted(event, reason, result.detail, session)
        sender, device = str(event.get("sender")), str(event.get("sender_device"))
        owner = self._tracker.owner_of(result.sender_key)
        if owner is None:
            await self._tracker.refresh([sender], force=True)
            owner = self._tracker.owner_of(result.sender_key)
        if owner is not None and owner != (sender, device):
            engine.save()
            detail = f"the key belongs to {owner[0]}/{owner[1]}, not {sender}/{device}"
            return self._undecrypted(event, UtdReason.SENDER_MISMATCH, detail)
        engine.save()
        entry = HistoryEntry(
            conversation_id,
            event["event_id"],
            sender,
            int(event.get("ts") or 0),
            result.content,
            result.message,
            result.franking_key,
            device,
        )
        engine.store.messages.add(entry)
        engine.store.messages.remove_undecrypted(entry.event_id)
        trust = (
            SenderTrust.UNKNOWN_DEVICE
            if owner is None
            else SenderTrust.VERIFIED
            if engine.directory.is_verified(sender, device)
            else SenderTrust.UNVERIFIED
        )
        return message_from_entry(entry, self._me, trust, result.forwarded)

    def _undecrypted(
        self, event: dict[str, Any], reason: UtdReason, detail: str, session: str = ""
    ) -> UnableToDecrypt:
        ts = int(event.get("ts") or 0)
        record = {"event": event, "reason": reason.value, "detail": detail}
        self._engine.store.messages.add_undecrypted(
            event["event_id"], event["conversation_id"], session, ts, record
        )
        return undecrypted_from_record(record, self.device_created_at)

    async def retry(self, conversation_id: str, sender_key: str, session_id: str) -> list[Update]:
        """Decrypt again every event that waited for this session."""
        records = self._engine.store.messages.undecrypted(session_key=f"{sender_key}|{session_id}")
        updates: list[Update] = []
        for record in records:
            event = record["event"]
            if event["conversation_id"] == conversation_id:
                updates.append(await self._decrypt(event))
        return updates

    async def _recover_missing(self) -> list[Update]:
        updates: list[Update] = []
        for conversation_id, sender_key, session_id in sorted(self._missing):
            export = await self._backup.fetch(conversation_id, session_id)
            if export is not None:
                updates += await self.retry(conversation_id, export.sender_key, session_id)
                continue
            ref = (conversation_id, sender_key, session_id)
            if ref not in self._requested:
                self._requested.add(ref)
                await self._request_from_own_devices(ref)
        return updates

    async def request_all_missing(self) -> None:
        """Ask our own devices again for every session an undecrypted event waits for."""
        waiting = set()
        for record in self._engine.store.messages.undecrypted():
            content = record["event"].get("content") or {}
            if UtdReason(record["reason"]).waiting:
                sender_key, session_id = content.get("sender_key"), content.get("session_id")
                if isinstance(sender_key, str) and isinstance(session_id, str):
                    waiting.add((record["event"]["conversation_id"], sender_key, session_id))
        for ref in sorted(waiting):
            self._requested.add(ref)
            await self._request_from_own_devices(ref)

    async def _request_from_own_devices(self, ref: SessionRef) -> None:
        conversation_id, sender_key, session_id = ref
        request = KeyRequest.new(conversation_id, session_id, sender_key)
        me, own_device = self._me, self._engine.identity.device_id
        await self._tracker.refresh([me])
        others = [d for d in self._tracker.devices_of([me]) if d.device_id != own_device]
        if others:
            await self._sharing.send_encrypted(request.to_content(), others)


def message_from_entry(
    entry: HistoryEntry,
    me: str,
    trust: SenderTrust = SenderTrust.UNVERIFIED,
    forwarded: bool = False,
) -> Message:
    return Message(
        event_id=entry.event_id,
        conversation_id=entry.conversation_id,
        sender=entry.sender,
        sender_device=entry.sender_device,
        ts=entry.timestamp_ms,
        content=entry.content,
        own=entry.sender == me,
        trust=trust,
        forwarded=forwarded,
    )


def undecrypted_from_record(record: dict[str, Any], device_created_at: int) -> UnableToDecrypt:
    event = record["event"]
    ts = int(event.get("ts") or 0)
    return UnableToDecrypt(
        event_id=event["event_id"],
        conversation_id=event["conversation_id"],
        sender=str(event.get("sender") or ""),
        sender_device=str(event.get("sender_device") or ""),
        ts=ts,
        reason=UtdReason(record["reason"]),
        detail=str(record.get("detail", "")),
        before_device=bool(device_created_at) and ts < device_created_at,
    )
