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
        self._publisher_ok = False
        self._subscriber_ok = False

    def _channel(self, channel: str) -> str:
        return f"{self._prefix}:{channel}"

    async def start(self) -> None:
        """Connect; call :meth:`subscribe` for every channel before this."""
        self._client = redis_asyncio.Redis.from_url(
            self._url, socket_timeout=2, socket_connect_timeout=1, health_check_interval=5
        )
        self._publisher_ok = True
        self._tasks = [asyncio.create_task(self._drain_outbox(), name="redis-publish")]
        if self._handlers:
            self._tasks.append(asyncio.create_task(self._listen(), name="redis-subscribe"))

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
        subscribed = self._subscriber_ok or not self._handlers
        return self._publisher_ok and subscribed

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
                    self._publisher_ok = False
                    await asyncio.sleep(0.2)
                    continue
                self._publisher_ok = True
                self._outbox.popleft()

    async def _listen(self) -> None:
        assert self._client is not None
        channels = list(self._handlers)
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*channels)
                self._subscriber_ok = True
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._dispatch(message["channel"].decode(), message["data"])
            except (RedisError, OSError) as exc:
                self._subscriber_ok = False
                log.warning("redis subscription lost (%s); retrying", exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _dispatch(self, channel: str, data: bytes) -> None:
        for handler in self._handlers.get(channel, ()):
            try:
                handler(data)
            except Exception:
                log.exception("broker subscriber failed on %s", channel)
