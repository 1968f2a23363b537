"""The realtime stream: WebSocket with resume tokens, reconnects, and a long-poll fallback.

:class:`EventStream` keeps this device's view of the server current and hands
the SDK :class:`SyncBatch` es in stream order. How (``src/kabar/http/stream.py``
documents the protocol):

* **WebSocket** ``/v1/stream``, resumed from the last token the SDK finished
  processing. A reader task takes frames off the socket (answering pings,
  resolving send acks at once) into a bounded queue; the processor takes
  everything waiting as one batch — one store transaction per batch — and then
  tells the server its checkpoint, so delivered to-device messages can go.
  The bounded queue is the back-pressure: if the SDK falls behind, the socket
  stops being read and the server closes it as a slow consumer (4008); we
  resume from the token, losing nothing.
* **Reconnects** with exponential backoff and full jitter (``kabar.client.backoff``);
  4008 reconnects at once; 4001 (signed out) and 4003 (suspended) stop the stream.
* **Dedupe**: the ids of recently delivered events are remembered, so an event
  seen twice (a resume racing a live frame, a history page) is processed once.
* **Long-poll fallback**: if the WebSocket cannot be opened several times in a
  row (a proxy that blocks upgrades), ``GET /v1/sync?timeout=…`` takes over for
  a while, then the WebSocket is tried again.

Sends can ride the socket (:meth:`EventStream.send`, acked by ``txn_id``); when
it is down they raise :class:`StreamUnavailable` and the SDK uses HTTP, with
the same ``txn_id``, so a send is never duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from kabar.client.api import Api
from kabar.client.backoff import Backoff
from kabar.client.errors import ApiError, ServerUnreachable, SignedOut

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4001
CLOSE_SUSPENDED = 4003
CLOSE_SLOW = 4008
QUEUE_FRAMES = 2000
BATCH_MAX = 500
DEDUPE_MAX = 20_000
CHECKPOINT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class StreamItem:
    kind: Literal["event", "to_device"]
    body: dict[str, Any]


@dataclass(slots=True)
class SyncBatch:
    """Items in the order to process them; afterwards the device is complete up to ``token``."""

    items: list[StreamItem] = field(default_factory=list)
    token: str | None = None
    one_time_key_count: int | None = None
    fallback_key_unused: bool | None = None
    caught_up: bool = False


Handler = Callable[[SyncBatch], Awaitable[None]]


class StreamUnavailable(Exception):
    """The WebSocket is not connected (or dropped before the ack): send over HTTP instead."""


def batch_from_sync(body: dict[str, Any]) -> SyncBatch:
    """A long-poll page as a batch. To-device messages go first: a page lists them apart
    from events, and a room key must be in place before the message it unlocks."""
    items = [StreamItem("to_device", m) for m in body.get("to_device", [])]
    items += [StreamItem("event", e) for e in body.get("events", [])]
    return SyncBatch(
        items=items,
        token=body.get("next"),
        one_time_key_count=body.get("one_time_key_count"),
        fallback_key_unused=body.get("fallback_key_unused"),
        caught_up=not body.get("more", False),
    )


class RecentIds:
    """A bounded memory of event ids already handed on (oldest forgotten first)."""

    def __init__(self, capacity: int = DEDUPE_MAX) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def seen(self, event_id: str) -> bool:
        return event_id in self._ids

    def remember(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            self._ids[event_id] = None
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


class EventStream:
    def __init__(
        self,
        api: Api,
        access_token: str,
        since: str | None,
        handler: Handler,
        *,
        poll_timeout_ms: int = 30_000,
        ws_failures_before_poll: int = 3,
        poll_rounds_before_ws: int = 10,
        backoff: Backoff | None = None,
    ) -> None:
        self._api = api
        self._token = access_token
        self.since = since
        self._handler = handler
        self._poll_timeout_ms = poll_timeout_ms
        self._ws_failures_before_poll = ws_failures_before_poll
        self._poll_rounds_before_ws = poll_rounds_before_ws
        self._backoff = backoff or Backoff()
        self._recent = RecentIds()
        self._ws: ClientConnection | None = None
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._checkpointed = 0.0
        self.live = asyncio.Event()  # set while connected and caught up
        self.mode: Literal["websocket", "long-poll", "stopped"] = "websocket"

    @property
    def ws_url(self) -> str:
        base = self._api.base_url
        return ("wss://" + base[8:] if base.startswith("https://") else "ws://" + base[7:]) + (
            "/v1/stream"
        )

    # -- running ---------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver batches until cancelled; raise :class:`SignedOut` if the device is gone."""
        failures = 0
        try:
            while True:
                if failures >= self._ws_failures_before_poll:
                    await self._poll(self._poll_rounds_before_ws)
                    failures = 0
                    continue
                opened = await self._websocket()
                failures = 0 if opened else failures + 1
        finally:
            self.mode = "stopped"
            self.live.clear()

    async def _websocket(self) -> bool:
        """One connection's life; True if it opened (the failure count starts over)."""
        self.mode = "websocket"
        try:
            ws = await connect(
                self.ws_url,
                compression=None,
                max_size=16 * 1024 * 1024,
                ping_interval=None,  # the server sends heartbeats; we answer them
                proxy=None,
                open_timeout=10,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            log.info("cannot open the stream (%r); retrying", exc)
            await asyncio.sleep(self._backoff.next_delay())
            return False
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_FRAMES)
        self._ws = ws
        reader = asyncio.create_task(self._read(ws, queue))
        try:
            await ws.send(json.dumps({"type": "auth", "token": self._token, "since": self.since}))
            await self._process(ws, queue)
        except ConnectionClosed:
            pass
        finally:
            self._ws = None
            self.live.clear()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            self._fail_pending_sends()
            with contextlib.suppress(Exception):
                await close_socket(ws)
        if self._after_close(ws):
            await asyncio.sleep(self._backoff.next_delay())
        return True

    def _after_close(self, ws: ClientConnection) -> bool:
        """Raise if the close is final; return whether to wait before reconnecting."""
        code = ws.close_code
        if code == CLOSE_UNAUTHENTICATED:
            raise SignedOut(401, "unauthenticated", "this device was signed out")
        if code == CLOSE_SUSPENDED:
            raise ApiError(403, "account_suspended", "this account is suspended")
        if code == CLOSE_SLOW:
            self._backoff.reset()
            return False  # we fell behind; resume from the token at once
        return True

    async def _read(
        self, ws: ClientConnection, queue: asyncio.Queue[dict[str, Any] | None]
    ) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind in ("ack", "error") and frame.get("txn_id") in self._acks:
                    future = self._acks.pop(frame["txn_id"])
                    if not future.done():
                        future.set_result(frame)
                elif kind == "ping":
                    await ws.send('{"type":"pong"}')
                elif kind in ("event", "to_device", "ready", "error"):
                    await queue.put(frame)
        finally:
            await queue.put(None)

    async def _process(
        self, ws: ClientConnection, queue: asyncio.Queue[dict[str, Any] | None]
    ) -> None:
        while True:
            frames = [await queue.get()]
            while len(frames) < BATCH_MAX and not queue.empty():
                frames.append(queue.get_nowait())
            batch, ended = self._batch(frames)
            if batch.items or batch.token != self.since or batch.caught_up:
                await self._deliver(batch)
                await self._checkpoint(ws, batch)
            if batch.caught_up:
                self._backoff.reset()
                self.live.set()
            if ended:
                return

    async def _checkpoint(self, ws: ClientConnection, batch: SyncBatch) -> None:
        """Tell the server what we hold, so it can delete delivered to-device messages.

        Only to-device messages wait for it, so it goes after batches that had some,
        and otherwise at most every ``CHECKPOINT_SECONDS``.
        """
        now = time.monotonic()
        had_to_device = any(item.kind == "to_device" for item in batch.items)
        if batch.token and (had_to_device or now - self._checkpointed > CHECKPOINT_SECONDS):
            self._checkpointed = now
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps({"type": "checkpoint", "token": batch.token}))

    def _batch(self, frames: list[dict[str, Any] | None]) -> tuple[SyncBatch, bool]:
        batch = SyncBatch(token=self.since)
        for frame in frames:
            if frame is None:
                return batch, True
            kind = frame["type"]
            if kind == "error":
                log.warning("stream error: %s", frame.get("detail"))
                continue
            batch.token = frame.get("token") or batch.token
            if kind == "event":
                batch.items.append(StreamItem("event", frame["event"]))
            elif kind == "to_device":
                batch.items.append(StreamItem("to_device", frame["message"]))
            elif kind == "ready":
                batch.caught_up = True
                batch.one_time_key_count = frame.get("one_time_key_count")
                batch.fallback_key_unused = frame.get("fallback_key_unused")
        return batch, False

    async def _poll(self, rounds: int) -> None:
        """Long-poll ``rounds`` times (the WebSocket did not open), then let it try again."""
        self.mode = "long-poll"
        for _ in range(rounds):
            try:
                body = await self._api.sync(self.since, timeout_ms=self._poll_timeout_ms)
            except ServerUnreachable:
                self.live.clear()
                await asyncio.sleep(self._backoff.next_delay())
                continue
            batch = batch_from_sync(body)
            await self._deliver(batch)
            if batch.caught_up:
                self._backoff.reset()
                self.live.set()

    async def _deliver(self, batch: SyncBatch) -> None:
        fresh, ids = [], []
        for item in batch.items:
            event_id = str(item.body.get("event_id")) if item.kind == "event" else ""
            if event_id and (self._recent.seen(event_id) or event_id in ids):
                continue
            fresh.append(item)
            if event_id:
                ids.append(event_id)
        batch.items = fresh
        await self._handler(batch)
        # Only now: a batch that failed is replayed in full after the reconnect.
        self._recent.remember(ids)
        self.since = batch.token or self.since

    # -- sending ---------------------------------------------------------------------

    async def send(
        self, conversation_id: str, txn_id: str, envelope: dict[str, Any], ack_timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send over the socket and wait for the ack; the answer is the ack frame."""
        ws = self._ws
        if ws is None or not self.live.is_set():
            raise StreamUnavailable("the stream is not connected")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[txn_id] = future
        frame = {
            "type": "send",
            "conversation_id": conversation_id,
            "txn_id": txn_id,
            "envelope": envelope,
        }
        started = time.monotonic()
        try:
            await ws.send(json.dumps(frame))
            answer = await asyncio.wait_for(future, ack_timeout)
        except (ConnectionClosed, TimeoutError, StreamUnavailable) as exc:
            raise StreamUnavailable(f"no ack after {time.monotonic() - started:.1f}s") from exc
        finally:
            self._acks.pop(txn_id, None)
        if answer["type"] == "error":
            raise ApiError.from_problem(int(answer.get("status", 400)), answer)
        return answer

    def _fail_pending_sends(self) -> None:
        for future in self._acks.values():
            if not future.done():
                future.set_exception(StreamUnavailable("the stream closed before the ack"))
        self._acks.clear()


async def close_socket(ws: ClientConnection) -> None:
    """Close ``ws``, reading and dropping whatever frames still arrive meanwhile.

    websockets stops reading from the network while 16 received frames wait unread (its
    flow control). A close started then never sees the server's close frame and waits out
    the close timeout (10 s) — which a busy account's stream hit whenever the client
    stopped. Reading on while closing lets the close frame through.
    """
    closing = asyncio.ensure_future(ws.close())
    try:
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass
    finally:
        await closing
