"""Rate limits: token buckets keyed by action and account or client address.

A bucket holds up to ``count`` tokens and refills at ``count / period``; each
request takes one, and an empty bucket answers 429 with the seconds until the
next token. The in-memory limiter holds for one node; the Redis limiter
(issue 7) makes the same rules hold across nodes.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Protocol

import redis.asyncio as redis_asyncio
from redis.exceptions import RedisError

from kabar import metrics
from kabar.config import RateRule
from kabar.errors import RateLimited

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    async def hit(self, action: str, key: str, rule: RateRule) -> None:
        """Take one token or raise :class:`RateLimited`."""

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, enabled: bool = True, capacity: int = 200_000) -> None:
        self._enabled = enabled
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._capacity = capacity

    async def hit(self, action: str, key: str, rule: RateRule) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        tokens, updated = self._buckets.pop((action, key), (rule.count, now))
        tokens = min(rule.count, tokens + (now - updated) * rule.per_second)
        if tokens < 1:
            self._buckets[(action, key)] = (tokens, now)
            metrics.RATE_LIMITED.labels(action).inc()
            raise RateLimited(retry_after=(1 - tokens) / rule.per_second)
        self._buckets[(action, key)] = (tokens - 1, now)
        if len(self._buckets) > self._capacity:
            # Evict the least recently used bucket; a full bucket is the same as none.
            self._buckets.popitem(last=False)

    async def close(self) -> None:
        return None


# One bucket, atomically in Redis: refill by elapsed time, take a token or say how long to wait.
# KEYS[1] bucket; ARGV: capacity, tokens per second, now (s). Returns wait seconds * 1000 (0 = ok).
_TAKE = """
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = tonumber(bucket[1]) or capacity
local updated = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) / rate * 1000)
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return wait
"""


class RedisRateLimiter:
    """The same buckets kept in Redis, so a limit holds across every node.

    If Redis is unreachable the request is let through (and logged): rate limiting
    is protection, and refusing all logins during a Redis outage would be worse.
    """

    def __init__(self, url: str, key_prefix: str, enabled: bool = True) -> None:
        self._enabled = enabled
        self._prefix = f"{key_prefix}:rl"
        # Short timeouts: a hung Redis must not hang logins and sends with it.
        self._client = redis_asyncio.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._script = self._client.register_script(_TAKE)

    async def hit(self, action: str, key: str, rule: RateRule) -> None:
        if not self._enabled:
            return
        try:
            wait_ms = await self._script(
                keys=[f"{self._prefix}:{action}:{key}"],
                args=[rule.count, rule.per_second, time.time()],
            )
        except (RedisError, OSError):
            log.warning("rate limiter unavailable; letting %s through", action)
            return
        if int(wait_ms) > 0:
            metrics.RATE_LIMITED.labels(action).inc()
            raise RateLimited(retry_after=int(wait_ms) / 1000)

    async def close(self) -> None:
        await self._client.aclose()
