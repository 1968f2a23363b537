"""Fan-out of live updates to subscribers, each with its own bounded queue.

A slow subscriber never holds the SDK back: when its queue is full the oldest
update is dropped (and counted in ``dropped``); everything is still in the
local history for it to read back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from kabar.client.models import Update


class Subscription:
    def __init__(self, hub: UpdateHub, maxsize: int) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[Update | None] = asyncio.Queue(maxsize)
        self.dropped = 0

    def _put(self, update: Update | None) -> None:
        while True:
            try:
                self._queue.put_nowait(update)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.dropped += 1

    async def get(self) -> Update | None:
        """The next update, or ``None`` once the session is closed."""
        return await self._queue.get()

    def pending(self) -> list[Update]:
        """Everything waiting right now, without blocking."""
        items = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                items.append(item)
        return items

    def close(self) -> None:
        self._hub.unsubscribe(self)
        self._put(None)

    def __aiter__(self) -> AsyncIterator[Update]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Update]:
        while True:
            update = await self._queue.get()
            if update is None:
                return
            yield update


class UpdateHub:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(self, maxsize: int = 10_000) -> Subscription:
        subscription = Subscription(self, maxsize)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def publish(self, updates: list[Update]) -> None:
        for subscription in list(self._subscribers):
            for update in updates:
                subscription._put(update)

    def close(self) -> None:
        for subscription in list(self._subscribers):
            subscription.close()
