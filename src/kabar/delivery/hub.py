"""The hub: routes committed events to this node's live listeners, in stream order.

Batches arrive from this node's writer (directly) and other nodes (through the
broker). The hub keeps a *watermark*: every position up to it has been routed.
Committed positions are contiguous, so a batch that does not start right after
the watermark means a broker message is late or lost: later batches wait a
moment, then the hub reads the missing range from the store (a periodic check
of the stored position also catches a lost *last* batch). Routing is therefore
complete and in order, which is what lets a listener's sync token be the
watermark.

For each account with live listeners the hub keeps an :class:`AccountView` —
the set of conversations the account is currently in — loaded from a store
snapshot and then kept current by the membership changes it routes, so a new
long-poll from a known account costs no database read at all.

Routing a batch queues its items on every listener at once, but wakes at most
:data:`WAKE_CHUNK` consumers at once and the rest that many per turn of the event
loop, so that a fan-out to thousands of sockets does not hold the node's other
requests for its whole length.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable

from kabar import metrics
from kabar.delivery import events as ev
from kabar.delivery.render import event_dispatch, sender_ids, to_device_dispatch
from kabar.ids import EventIdCodec
from kabar.store import events as store
from kabar.store.conversations import conversation_ids_of
from kabar.store.database import Database
from kabar.store.feeds import feeds_followed_by
from kabar.store.names import UsernameCache

log = logging.getLogger(__name__)

GAP_GRACE_SECONDS = 0.05
POLL_SECONDS = 1.0
VIEW_IDLE_SECONDS = 300.0
WAKE_CHUNK = 128
"""Listeners a batch wakes at once; the rest are woken this many per turn of the event loop.
Each woken consumer writes to its socket in the next turn: an article for 10,000 online
subscribers woken at once held every other request of the node for the whole fan-out
(~0.7 s); in chunks, other requests get in between (docs/performance-history.md, the
ninth machine)."""


class Listener:
    """One live consumer (a WebSocket stream or a waiting long-poll) of one device."""

    def __init__(self, account_id: str, device_id: str, position: int, max_items: int) -> None:
        self.account_id = account_id
        self.device_id = device_id
        self.position = position
        self.max_items = max_items
        self.items: deque[ev.Dispatch] = deque()
        self.pending = False
        self.overflowed = False
        self.closed: str | None = None
        self.wakeup = asyncio.Event()
        self.wake_queued = False  # in the hub's queue of listeners to wake
        self.on_close: Callable[[str], None] | None = None

    def push(self, item: ev.Dispatch) -> bool:
        """Queue ``item`` for the consumer; whether it now has something to be woken for
        (the hub sets :attr:`wakeup`)."""
        if item.pos <= self.position or self.closed:
            return False
        if len(self.items) >= self.max_items:
            # Never grow without bound: the consumer resumes from its token instead.
            self.overflowed = True
            self.items.clear()
            return True
        self.items.append(item)
        return True

    @property
    def has_news(self) -> bool:
        """Whether the consumer has items, or an overflow, it has not taken yet."""
        return bool(self.items) or self.overflowed

    def activate(self, position: int) -> None:
        """End the pending phase: drop what the store read already covered."""
        self.position = max(self.position, position)
        while self.items and self.items[0].pos <= self.position:
            self.items.popleft()
        self.pending = False

    def take(self) -> list[ev.Dispatch]:
        items = list(self.items)
        self.items.clear()
        self.wakeup.clear()
        if items:
            self.position = max(self.position, items[-1].pos)
        return items

    def close(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason
            self.wakeup.set()
            if self.on_close is not None:
                self.on_close(reason)


class AccountView:
    def __init__(self, account_id: str, conversations: set[str], feeds: set[str]) -> None:
        self.account_id = account_id
        self.conversations = conversations
        self.feeds = feeds
        self.listeners: set[Listener] = set()
        self.idle_since = time.monotonic()


class Hub:
    def __init__(self, database: Database, codec: EventIdCodec, names: UsernameCache) -> None:
        self._db = database
        self._codec = codec
        self._names = names
        self.watermark = 0
        self._views: dict[str, AccountView] = {}
        self._by_conversation: defaultdict[str, set[AccountView]] = defaultdict(set)
        self._by_feed: defaultdict[str, set[AccountView]] = defaultdict(set)
        self._by_device: defaultdict[str, set[Listener]] = defaultdict(set)
        self._loading: dict[str, list[ev.Dispatch]] = {}
        self._loads: dict[str, asyncio.Future[AccountView]] = {}
        self._ahead: dict[int, ev.StreamBatch] = {}
        self._gap_task: asyncio.Task[None] | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self.batches_from_broker = 0
        self._woken = 0  # listeners woken at once by the batch being routed
        self._to_wake: deque[Listener] = deque()
        self._waking = False  # a call of _wake_more is scheduled

    async def start(self) -> None:
        async with self._db.read() as conn:
            self.watermark = await store.read_position(conn)
        # Read when scraped, not set on every batch (a lock each time).
        metrics.STREAM_POSITION.set_function(lambda: self.watermark)
        self._poll_task = asyncio.create_task(self._poll(), name="kabar-hub-poll")

    async def stop(self) -> None:
        for task in (self._poll_task, self._gap_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for listeners in list(self._by_device.values()):
            for listener in list(listeners):
                listener.close("shutdown")

    # -- batches in -------------------------------------------------------------------------

    def on_batch(self, batch: ev.StreamBatch) -> None:
        if batch.last <= self.watermark:
            return
        if batch.first > self.watermark + 1:
            self._ahead[batch.first] = batch
            if self._gap_task is None or self._gap_task.done():
                self._gap_task = asyncio.create_task(self._fill_gap_later())
            return
        self._route(batch)
        while self.watermark + 1 in self._ahead:
            self._route(self._ahead.pop(self.watermark + 1))
        for first in [f for f, b in self._ahead.items() if b.last <= self.watermark]:
            del self._ahead[first]

    def on_broker_message(self, payload: bytes) -> None:
        self.batches_from_broker += 1
        self.on_batch(ev.StreamBatch.decode(payload))

    def _route(self, batch: ev.StreamBatch) -> None:
        self._woken = 0
        for item in batch.items:
            if item.pos > self.watermark:
                self._route_one(item)
        self.watermark = max(self.watermark, batch.last)

    def _route_one(self, item: ev.Dispatch) -> None:
        if item.to_device:
            for listener in tuple(self._by_device.get(item.device_id or "", ())):
                self._push(listener, item)
            return
        if item.joins or item.leaves or item.follows or item.unfollows:
            for buffer in self._loading.values():
                buffer.append(item)
        conversation = item.conversation_id
        if conversation is not None:
            for account in item.joins:
                view = self._views.get(account)
                if view is not None:
                    view.conversations.add(conversation)
                    self._by_conversation[conversation].add(view)
            for view in tuple(self._by_conversation.get(conversation, ())):
                for listener in tuple(view.listeners):
                    self._push(listener, item)
            for account in item.leaves:
                view = self._views.get(account)
                if view is not None:
                    view.conversations.discard(conversation)
                    self._discard(self._by_conversation, conversation, view)
        if item.feed_id is not None:
            for view in tuple(self._by_feed.get(item.feed_id, ())):
                for listener in tuple(view.listeners):
                    self._push(listener, item)
        if item.target_account is not None:
            view = self._views.get(item.target_account)
            if view is not None:
                for feed in item.follows:
                    view.feeds.add(feed)
                    self._by_feed[feed].add(view)
                for listener in tuple(view.listeners):
                    self._push(listener, item)
                for feed in item.unfollows:
                    view.feeds.discard(feed)
                    self._discard(self._by_feed, feed, view)

    def _push(self, listener: Listener, item: ev.Dispatch) -> None:
        if not listener.push(item) or listener.wakeup.is_set() or listener.wake_queued:
            return
        if self._woken < WAKE_CHUNK:
            self._woken += 1
            listener.wakeup.set()
            return
        listener.wake_queued = True
        self._to_wake.append(listener)
        if not self._waking:
            self._waking = True
            asyncio.get_running_loop().call_soon(self._wake_more)

    def _wake_more(self) -> None:
        """Wake the next :data:`WAKE_CHUNK` queued listeners; again next turn if more wait."""
        for _ in range(min(WAKE_CHUNK, len(self._to_wake))):
            listener = self._to_wake.popleft()
            listener.wake_queued = False
            if listener.has_news:  # not if it took its items meanwhile
                listener.wakeup.set()
        self._waking = bool(self._to_wake)
        if self._waking:
            asyncio.get_running_loop().call_soon(self._wake_more)

    # -- gaps -------------------------------------------------------------------------------

    async def _fill_gap_later(self) -> None:
        await asyncio.sleep(GAP_GRACE_SECONDS)
        while self._ahead:
            upto = min(self._ahead) - 1
            if upto <= self.watermark:
                self.on_batch(self._ahead.pop(min(self._ahead)))
                continue
            if not await self._fill(upto):
                await asyncio.sleep(0.5)

    async def _poll(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                async with self._db.read() as conn:
                    stored = await store.read_position(conn)
                if stored > self.watermark and not self._ahead:
                    # Either a batch is in flight or a broker message was lost; give it a moment.
                    await asyncio.sleep(GAP_GRACE_SECONDS)
                    if stored > self.watermark:
                        await self._fill(stored)
                self._evict_idle_views()
                if failing:
                    log.info("hub poll recovered")
                failing = False
            except Exception as exc:
                if not failing:  # once per outage, not once a second
                    log.warning(
                        "hub poll failed (%s); retrying every second", exc.__class__.__name__
                    )
                failing = True

    async def fill_to_stored(self) -> None:
        """Catch up with the store now (tests and tools that write behind the hub's back)."""
        async with self._db.read() as conn:
            stored = await store.read_position(conn)
        if stored > self.watermark:
            await self._fill(stored)

    async def _fill(self, upto: int) -> bool:
        after = self.watermark
        try:
            async with self._db.read() as conn:
                rows = await store.events_in_range(conn, after, upto)
                device_rows = await store.to_device_in_range(conn, after, upto)
                await self._names.resolve(conn, sender_ids(rows) | sender_ids(device_rows))
        except Exception:
            log.exception("hub could not read positions %d..%d", after + 1, upto)
            return False
        items = [event_dispatch(r, self._codec, self._names) for r in rows]
        items += [to_device_dispatch(r, self._names) for r in device_rows]
        items.sort(key=lambda d: d.pos)
        metrics.HUB_GAPS.inc()
        if self.watermark == after:
            self.on_batch(ev.StreamBatch(first=after + 1, last=upto, items=items))
        return True

    # -- listeners --------------------------------------------------------------------------

    async def view(self, account_id: str) -> AccountView:
        """The account's live view, loading it from a store snapshot if needed."""
        view = self._views.get(account_id)
        if view is not None:
            return view
        if account_id in self._loads:
            return await asyncio.shield(self._loads[account_id])
        future: asyncio.Future[AccountView] = asyncio.get_running_loop().create_future()
        self._loads[account_id] = future
        buffer: list[ev.Dispatch] = []
        self._loading[account_id] = buffer
        try:
            async with self._db.read() as conn:
                snapshot = await store.read_position(conn)
                conversations = await conversation_ids_of(conn, account_id)
                feeds = await feeds_followed_by(conn, account_id)
        except BaseException as exc:
            del self._loading[account_id]
            del self._loads[account_id]
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it through shield
            raise
        del self._loading[account_id]
        view = AccountView(account_id, conversations, feeds)
        for item in buffer:
            if item.pos <= snapshot:
                continue
            if item.conversation_id is not None:
                if account_id in item.joins:
                    conversations.add(item.conversation_id)
                if account_id in item.leaves:
                    conversations.discard(item.conversation_id)
            if item.target_account == account_id:
                feeds.update(item.follows)
                feeds.difference_update(item.unfollows)
        self._views[account_id] = view
        for conversation in conversations:
            self._by_conversation[conversation].add(view)
        for feed in feeds:
            self._by_feed[feed].add(view)
        del self._loads[account_id]
        future.set_result(view)
        return view

    def attach(self, view: AccountView, listener: Listener, *, pending: bool) -> None:
        listener.pending = pending
        view.listeners.add(listener)
        self._by_device[listener.device_id].add(listener)
        metrics.LISTENERS.inc()

    def detach(self, view: AccountView, listener: Listener) -> None:
        if listener in view.listeners:
            view.listeners.discard(listener)
            metrics.LISTENERS.dec()
        devices = self._by_device.get(listener.device_id)
        if devices is not None:
            devices.discard(listener)
            if not devices:
                del self._by_device[listener.device_id]
        if not view.listeners:
            view.idle_since = time.monotonic()

    def close_device(self, device_id: str, reason: str) -> None:
        for listener in tuple(self._by_device.get(device_id, ())):
            listener.close(reason)

    def close_account(self, account_id: str, reason: str) -> None:
        view = self._views.get(account_id)
        if view is not None:
            for listener in tuple(view.listeners):
                listener.close(reason)

    def _evict_idle_views(self) -> None:
        now = time.monotonic()
        for account_id, view in list(self._views.items()):
            if not view.listeners and now - view.idle_since > VIEW_IDLE_SECONDS:
                del self._views[account_id]
                for conversation in view.conversations:
                    self._discard(self._by_conversation, conversation, view)
                for feed in view.feeds:
                    self._discard(self._by_feed, feed, view)

    @staticmethod
    def _discard(index: defaultdict[str, set[AccountView]], key: str, view: AccountView) -> None:
        views = index.get(key)
        if views is not None:
            views.discard(view)
            if not views:
                del index[key]
