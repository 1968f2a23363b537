"""A signed-in device: the facade that does the whole end-to-end lifecycle (DESIGN §4).

A :class:`Session` owns one device's local store, its crypto machines and its
connection to the server. Everything an application does goes through it:

* **keys** — publishes identity, one-time and fallback keys, and tops the
  one-time keys up whenever sync reports the stock running low;
* **receiving** — :meth:`sync` (catch up once, over HTTP) or :meth:`start`
  (realtime over the WebSocket, with a long-poll fallback) feed every delivered
  batch through :class:`~kabar.client.receiver.Receiver` inside one store
  transaction; :meth:`subscribe` streams the resulting updates;
* **sending** — :meth:`send` refreshes stale device lists, shares (or
  rotates) the Megolm session, encrypts with a fresh franking key, saves the
  ratchet, then sends (over the socket when live, else HTTP, same ``txn_id``);
* **history, search, reports, attachments, safety numbers, key backup**;
* **public accounts** — :attr:`public` (:class:`~kabar.client.public.PublicAccounts`):
  publishing signed articles, subscriptions, the feed, search, verification.

One asyncio lock serialises every use of the crypto state; a failed batch is
rolled back in the store *and* in memory (:meth:`CryptoEngine.reload`), and is
simply delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from pathlib import Path
from typing import Any

from kabar.client import attachments
from kabar.client.api import Api
from kabar.client.crypto.backup import RecoveryKey
from kabar.client.crypto.franking import report_body
from kabar.client.devices import DeviceTracker
from kabar.client.engine import CryptoEngine
from kabar.client.errors import ClientError, NotFoundLocally, SignedOut
from kabar.client.http import HttpTransport
from kabar.client.keybackup import BackupManager
from kabar.client.members import Rosters
from kabar.client.models import (
    Attachment,
    Conversation,
    DeviceInfo,
    Message,
    SafetyNumber,
    UnableToDecrypt,
    Update,
)
from kabar.client.outgoing import Outgoing
from kabar.client.public import PublicAccounts
from kabar.client.public_api import PublicApi
from kabar.client.receiver import Receiver, message_from_entry, undecrypted_from_record
from kabar.client.references import References
from kabar.client.sharing import KeySharing
from kabar.client.store import DeviceStore
from kabar.client.stream import EventStream, StreamUnavailable, SyncBatch, batch_from_sync
from kabar.client.updates import Subscription, UpdateHub
from kabar.client.upkeep import KeyUpkeep

log = logging.getLogger(__name__)


class Session:
    def __init__(self, http: HttpTransport, engine: CryptoEngine, path: Path) -> None:
        self.http = http
        self.api = Api(http)
        self.engine = engine
        self.store = engine.store
        self.path = path
        self.tracker = DeviceTracker(self.api, engine)
        self.sharing = KeySharing(self.api, engine)
        self.rosters = Rosters(self.api, self.username)
        self.backup = BackupManager(self.api, engine)
        self.receiver = Receiver(
            self.api,
            engine,
            self.tracker,
            self.sharing,
            self.rosters,
            self.backup,
            int(self.store.get_setting("device_created_at", 0) or 0),
        )
        self.references = References(self)
        self.upkeep = KeyUpkeep(self.api, engine)
        self.outgoing = Outgoing(engine, self.tracker, self.sharing, self.rosters, self.backup)
        self.public = PublicAccounts(PublicApi(http), self.api, engine)
        self.since: str | None = self.store.get_setting("sync_token")
        self._lock = asyncio.Lock()
        self._hub = UpdateHub()
        self._stream: EventStream | None = None
        self._task: asyncio.Task[None] | None = None
        self.stream_error: BaseException | None = None
        self._closed = False

    # -- who we are ----------------------------------------------------------------------

    @property
    def username(self) -> str:
        return self.store.username

    @property
    def device_id(self) -> str:
        return self.store.device_id

    @property
    def account_id(self) -> str:
        return str(self.store.get_setting("account_id", ""))

    @property
    def server_url(self) -> str:
        return self.http.base_url

    # -- keys ----------------------------------------------------------------------------

    async def publish_keys(self) -> None:
        """Upload identity, one-time and fallback keys (idempotent; resumes a failed first try)."""
        async with self._lock:
            await self.upkeep.publish()

    # -- receiving -----------------------------------------------------------------------

    def subscribe(self, maxsize: int = 10_000) -> Subscription:
        """Live updates (messages, undecryptable events, notices, device warnings)."""
        return self._hub.subscribe(maxsize)

    async def sync(self, timeout_ms: int = 0) -> list[Update]:
        """Catch up over HTTP until the server has nothing more; return what came in."""
        updates: list[Update] = []
        while True:
            body = await self.api.sync(self.since, timeout_ms=timeout_ms)
            batch = batch_from_sync(body)
            updates += await self._handle(batch)
            if batch.caught_up:
                return updates
            timeout_ms = 0

    async def _handle(self, batch: SyncBatch) -> list[Update]:
        async with self._lock:
            # A page of events can be fetched again (the token is in the same commit);
            # a to-device message cannot once acknowledged, so it must hit the disk.
            durable = any(item.kind == "to_device" for item in batch.items)
            try:
                with self.store.batch(durable=durable):
                    updates = await self.receiver.process(batch.items)
                    if batch.token and batch.token != self.since:
                        self.store.set_setting("sync_token", batch.token)
            except BaseException:
                self._reload()
                raise
            self.since = batch.token or self.since
            await self._after_batch(batch)
            updates += self.tracker.take_warnings()
        self._hub.publish(updates)
        return updates

    async def _after_batch(self, batch: SyncBatch) -> None:
        try:
            if batch.one_time_key_count is not None:
                unused = batch.fallback_key_unused is not False
                await self.upkeep.top_up(batch.one_time_key_count, unused)
            elif self.receiver.used_one_time_keys:
                await self.upkeep.check()
            self.receiver.used_one_time_keys = False
            await self.backup.flush()
        except ClientError as exc:  # retried after the next batch
            log.warning("key upkeep failed: %s", exc)

    def _reload(self) -> None:
        self.engine.reload()
        self.backup.reload()
        self.sharing.reload()
        self.tracker.forget_freshness()

    async def start(self) -> None:
        """Receive in the background (WebSocket, long-poll fallback) until :meth:`stop`."""
        if self._task is not None:
            return
        token = self.http.token or ""
        self._stream = EventStream(self.api, token, self.since, self._on_stream_batch)
        self._task = asyncio.create_task(self._run_stream(self._stream), name="kabar-stream")

    async def _on_stream_batch(self, batch: SyncBatch) -> None:
        await self._handle(batch)

    async def _run_stream(self, stream: EventStream) -> None:
        while True:
            try:
                await stream.run()
            except SignedOut as exc:
                self.stream_error = exc
                self._hub.close()
                return
            except Exception as exc:  # a batch failed (and was rolled back): replay it
                self.stream_error = exc
                log.warning("the stream stopped (%r); restarting", exc, exc_info=True)
                stream.since = self.since
                await asyncio.sleep(1.0)

    async def wait_live(self, seconds: float = 10.0) -> bool:
        """Wait until the realtime stream has caught up; False if it has not in ``seconds``."""
        if self._stream is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stream.live.wait(), seconds)
        return self._stream.live.is_set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task, self._stream = None, None

    async def close(self) -> None:
        """Stop receiving and close the store and connections (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        await self.stop()
        self._hub.close()
        await self.http.aclose()
        self.store.close()

    async def logout(self) -> None:
        """Sign this device out on the server and delete its local store."""
        with contextlib.suppress(SignedOut):
            await self.api.logout()
        await self.close()
        await asyncio.to_thread(DeviceStore.delete, self.path)

    # -- conversations -------------------------------------------------------------------

    async def conversations(self) -> list[Conversation]:
        found = []
        for body in await self.api.conversations():
            cached = self.rosters.cached(body["conversation_id"])
            if body["kind"] == "direct" and (cached is None or not cached.members):
                found.append(await self.rosters.load(body["conversation_id"]))
            else:
                found.append(self.rosters.remember(body) if cached is None else cached)
        return found

    async def conversation(self, reference: str) -> Conversation:
        """Find a conversation by id, ``@username`` (direct) or group title."""
        return await self.references.conversation(reference)

    async def open_direct(self, username: str) -> Conversation:
        return self.rosters.remember(await self.api.open_direct(username.lstrip("@")))

    async def create_group(self, title: str, usernames: list[str]) -> Conversation:
        names = [u.lstrip("@") for u in usernames]
        return self.rosters.remember(await self.api.create_group(title, names))

    async def add_members(self, conversation_id: str, usernames: list[str]) -> list[str]:
        added = await self.api.add_members(conversation_id, [u.lstrip("@") for u in usernames])
        await self.rosters.load(conversation_id)
        return added

    async def remove_member(self, conversation_id: str, username: str) -> None:
        await self.api.remove_member(conversation_id, username.lstrip("@"))
        async with self._lock:  # do not wait for the event: the next send uses a new key
            self.sharing.rotate(conversation_id)
            self.engine.save()
        await self.rosters.load(conversation_id)

    async def leave(self, conversation_id: str) -> None:
        await self.api.leave(conversation_id)
        async with self._lock:
            self.sharing.rotate(conversation_id)
            self.engine.save()
        self.rosters.forget(conversation_id)

    # -- sending -------------------------------------------------------------------------

    async def send_text(self, conversation_id: str, text: str) -> Message:
        return await self.send(conversation_id, {"type": "m.text", "body": text})

    async def send_file(
        self,
        conversation_id: str,
        data: bytes,
        name: str,
        mime: str = "application/octet-stream",
        caption: str | None = None,
    ) -> Message:
        descriptor = await attachments.upload(self.api, data, name, mime)
        content = {"type": "m.file", "body": caption or name, "attachments": [descriptor]}
        return await self.send(conversation_id, content)

    async def download(self, attachment: Attachment) -> bytes:
        return await attachments.download(self.api, attachment)

    async def send(self, conversation_id: str, content: dict[str, Any]) -> Message:
        """Encrypt and send one message; returns it as this device keeps it."""
        async with self._lock:
            entry = await self.outgoing.send(conversation_id, content, self._transmit)
            with contextlib.suppress(ClientError):  # uploaded with a later batch instead
                await self.backup.flush()
            warnings: list[Update] = list(self.tracker.take_warnings())
        self._hub.publish(warnings)
        return message_from_entry(entry, self.username)

    async def _transmit(self, conversation_id: str, envelope: dict[str, Any]) -> dict[str, Any]:
        txn_id = secrets.token_urlsafe(12)
        stream = self._stream
        if stream is not None and stream.live.is_set():
            try:
                return await stream.send(conversation_id, txn_id, envelope)
            except StreamUnavailable:
                pass  # the same txn_id over HTTP: the server answers the original if it got it
        return await self.api.send_message(conversation_id, txn_id, envelope)

    # -- reading -------------------------------------------------------------------------

    def history(self, conversation_id: str, limit: int = 50) -> list[Message | UnableToDecrypt]:
        """The newest messages of a conversation on this device, oldest first."""
        created_at = self.receiver.device_created_at
        items: list[Message | UnableToDecrypt] = [
            message_from_entry(e, self.username, forwarded=False)
            for e in self.store.messages.history(conversation_id, limit)
        ]
        items += [
            undecrypted_from_record(r, created_at)
            for r in self.store.messages.undecrypted(conversation_id=conversation_id)
        ]
        items.sort(key=lambda m: (m.ts, m.event_id))
        return items[-limit:]

    def undecrypted(self) -> list[UnableToDecrypt]:
        """Every event this device holds that it could not decrypt, with its reason."""
        created_at = self.receiver.device_created_at
        return [undecrypted_from_record(r, created_at) for r in self.store.messages.undecrypted()]

    def message(self, reference: str) -> Message:
        """A stored message by event id or a unique prefix of it."""
        event_id = self.references.event_id(reference)
        entry = self.store.messages.get(event_id)
        if entry is None:
            raise NotFoundLocally(f"message {reference} could not be decrypted here")
        return message_from_entry(entry, self.username)

    def search(self, words: str, limit: int = 20) -> list[Message]:
        found = []
        for hit in self.store.search(words, limit):
            entry = self.store.messages.get(hit.event_id)
            if entry is not None:
                found.append(message_from_entry(entry, self.username))
        return found

    async def delete_message(self, reference: str) -> None:
        """Delete a message for everyone (ours, or any message of a group we administer)."""
        event_id = self.references.event_id(reference)
        entry = self.store.messages.get(event_id)
        if entry is None:
            raise NotFoundLocally(f"message {reference} is not on this device")
        await self.api.delete_message(entry.conversation_id, event_id)
        self.store.delete_message(event_id)

    async def report(
        self, reference: str, reason: str | None = None, policy_item: str | None = None
    ) -> dict[str, Any]:
        """Report one received message; the server verifies it and learns only that message."""
        event_id = self.references.event_id(reference)
        entry = self.store.messages.get(event_id)
        if entry is None or not entry.franking_key:
            raise NotFoundLocally(f"message {reference} is not one this device can report")
        body = report_body(entry.event_id, entry.message, entry.franking_key)
        return await self.api.report_message(body, reason, policy_item)

    # -- devices and trust ---------------------------------------------------------------

    async def devices(self) -> list[DeviceInfo]:
        await self.tracker.refresh([self.username], force=True)
        return self.tracker.own_devices(await self.api.devices())

    async def revoke_device(self, device_id: str) -> None:
        await self.api.revoke_device(device_id)
        self.tracker.mark_stale(self.username)

    async def safety_number(self, username: str) -> SafetyNumber:
        """The number to compare with ``username`` (fetches both device lists fresh)."""
        username = username.lstrip("@")
        async with self._lock:
            await self.tracker.refresh([self.username, username], force=True)
            self.engine.save()
        return self.tracker.safety_number(username)

    async def verify(self, username: str, device_ids: list[str] | None = None) -> None:
        """Record that the safety number was compared: trust these devices.

        Without ``device_ids``, every device shown by the last :meth:`safety_number`
        is trusted. Verifying one of our own devices also asks it (again) for every
        key this device is still missing: it answers only verified devices.
        """
        username = username.lstrip("@")
        async with self._lock:
            directory = self.engine.directory
            known = {d.device_id for d in directory.devices(username)}
            if device_ids is not None and not set(device_ids) <= known:
                await self.tracker.refresh([username], force=True)
            directory.mark_verified(username, device_ids)
            self.engine.directory_dirty = True
            self.engine.save()
            if username == self.username:
                await self.receiver.request_all_missing()

    # -- key backup ----------------------------------------------------------------------

    async def create_backup(self) -> str:
        """Start a new key backup; returns the recovery key to show the user once."""
        recovery_key = RecoveryKey.generate()
        async with self._lock:
            await self.backup.create(recovery_key)
            await self.backup.flush()
        return recovery_key.display()

    async def restore_backup(self, recovery_key: str) -> int:
        """Join the account's backup with the recovery key and import every session in it.

        Returns how many sessions were new here; messages waiting for them decrypt now.
        """
        key = RecoveryKey.parse(recovery_key)
        async with self._lock:
            await self.backup.open(key)
            with self.store.batch():
                imported = await self.backup.restore()
                updates: list[Update] = []
                for export in imported:
                    updates += await self.receiver.retry(
                        export.conversation_id, export.sender_key, export.session_id
                    )
        self._hub.publish(updates)
        return len(imported)
