"""The Redis broker for many nodes: Redis pub/sub behind an ordered outbox.

``publish`` never blocks the caller (the writer): payloads go into a bounded
outbox drained by one task, which keeps the per-channel order Redis promises
for one connection. When Redis is down the outbox fills and the oldest payloads
are dropped; subscribers then see position gaps and re-read the store, so no
event is lost, only delayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque

import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError

from kabar.broker.base import Handler

log = logging.getLogger(__name__)

OUTBOX_MAX = 10_000


class RedisBroker:
    def __init__(self, url: str, key_prefix: str) -> None:
        self._url = url
        self._prefix = key_prefix
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)
        self._outbox: deque[tuple[str, bytes]] = deque(maxlen=OUTBOX_MAX)
        self._wakeup = asyncio.Event()
        self._client: redis_asyncio.Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._healthy = False

    def _channel(self, channel: str) -> str:
        return f"{self._prefix}:{channel}"

    async def start(self) -> None:
        self._client = redis_asyncio.Redis.from_url(self._url)
        self._tasks = [
            asyncio.create_task(self._drain_outbox(), name="redis-publish"),
            asyncio.create_task(self._listen(), name="redis-subscribe"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    def publish(self, channel: str, payload: bytes) -> None:
        self._outbox.append((self._channel(channel), payload))
        self._wakeup.set()

    def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers[self._channel(channel)].append(handler)

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def distributed(self) -> bool:
        return True

    async def _drain_outbox(self) -> None:
        assert self._client is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._outbox:
                channel, payload = self._outbox[0]
                try:
                    await self._client.publish(channel, payload)
                except (RedisError, OSError):
                    self._healthy = False
                    await asyncio.sleep(0.2)
                    continue
                self._outbox.popleft()

    async def _listen(self) -> None:
        assert self._client is not None
        while True:
            try:
                pubsub = self._client.pubsub()
                await pubsub.subscribe(*self._handlers.keys())
                self._healthy = True
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    channel = message["channel"].decode()
                    for handler in self._handlers.get(channel, ()):
                        try:
                            handler(message["data"])
                        except Exception:
                            log.exception("broker subscriber failed on %s", channel)
            except (RedisError, OSError) as exc:
                self._healthy = False
                log.warning("redis subscription lost (%s); retrying", exc)
                await asyncio.sleep(0.5)
