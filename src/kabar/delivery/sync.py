"""Sync: every event for a device after a token, from the store or live from the hub.

``read_page`` reads one consistent store snapshot: the stream position ``S``
and the device's events in ``(after, S]``. ``sync`` long-polls: if the token is
exactly the hub's watermark, nothing can be missing and the request waits on
the hub without touching the store; otherwise it registers a *pending*
listener first (so nothing committed during the read is lost), reads the
store, and only waits if the read was empty. The token it returns is the
position up to which the device has everything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from kabar.delivery.events import Dispatch
from kabar.delivery.hub import Hub, Listener
from kabar.delivery.render import event_dispatch, sender_ids, to_device_dispatch
from kabar.delivery.to_device import ToDeviceJanitor
from kabar.errors import ErrorCode, InvalidRequest, Unauthenticated
from kabar.ids import EventIdCodec
from kabar.store import events as store
from kabar.store.database import Database
from kabar.store.names import UsernameCache


@dataclass(slots=True)
class SyncPage:
    """Items in position order; ``next_pos`` is the token the device now has everything up to."""

    next_pos: int
    items: list[Dispatch] = field(default_factory=list)
    more: bool = False

    @property
    def events(self) -> list[bytes]:
        return [i.frame for i in self.items if not i.to_device]

    @property
    def to_device(self) -> list[bytes]:
        return [i.frame for i in self.items if i.to_device]

    @property
    def empty(self) -> bool:
        return not self.items and not self.more


class SyncService:
    def __init__(
        self,
        database: Database,
        hub: Hub,
        codec: EventIdCodec,
        names: UsernameCache,
        janitor: ToDeviceJanitor,
        page_max: int,
    ) -> None:
        self._db = database
        self.hub = hub
        self._codec = codec
        self._names = names
        self._janitor = janitor
        self.page_max = page_max

    async def current_position(self) -> int:
        """The latest committed position: a token that skips everything before now."""
        async with self._db.read() as conn:
            return await store.read_position(conn)

    async def read_page(self, account_id: str, device_id: str, after: int, limit: int) -> SyncPage:
        async with self._db.read() as conn:
            upto = await store.read_position(conn)
            if after > upto:
                raise InvalidRequest(
                    "this sync token is from the future", code=ErrorCode.INVALID_TOKEN
                )
            rows = await store.account_events(conn, account_id, after, upto, limit + 1)
            device_rows = await store.device_messages(conn, device_id, after, upto, limit + 1)
            await self._names.resolve(conn, sender_ids(rows) | sender_ids(device_rows))
        items = [event_dispatch(r, self._codec, self._names) for r in rows]
        items += [to_device_dispatch(r, self._names) for r in device_rows]
        items.sort(key=lambda d: d.pos)
        more = len(items) > limit
        if more:
            items = items[:limit]
            upto = items[-1].pos
        return SyncPage(next_pos=upto, items=items, more=more)

    async def sync(
        self, account_id: str, device_id: str, since: int | None, timeout_ms: int, limit: int
    ) -> SyncPage:
        limit = max(1, min(limit, self.page_max))
        after = since or 0
        if after:
            self._janitor.acknowledge(device_id, after)
        view = await self.hub.view(account_id)
        listener = Listener(account_id, device_id, after, max_items=limit)
        if since is not None and since == self.hub.watermark:
            self.hub.attach(view, listener, pending=False)
        else:
            self.hub.attach(view, listener, pending=True)
            try:
                page = await self.read_page(account_id, device_id, after, limit)
            except BaseException:
                self.hub.detach(view, listener)
                raise
            if not page.empty or timeout_ms <= 0:
                self.hub.detach(view, listener)
                return page
            listener.activate(page.next_pos)
        try:
            if not listener.items and listener.closed is None and not listener.overflowed:
                try:
                    await asyncio.wait_for(listener.wakeup.wait(), timeout_ms / 1000)
                except TimeoutError:
                    pass
        finally:
            self.hub.detach(view, listener)
        if listener.closed is not None:
            raise Unauthenticated("this device was signed out", code=ErrorCode.UNAUTHENTICATED)
        if listener.overflowed:
            return await self.read_page(account_id, device_id, listener.position, limit)
        items = listener.take()
        return SyncPage(next_pos=max(listener.position, self.hub.watermark), items=items)
