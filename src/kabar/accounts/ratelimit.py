"""Rate limits: token buckets keyed by action and account or client address.

A bucket holds up to ``count`` tokens and refills at ``count / period``; each
request takes one, and an empty bucket answers 429 with the seconds until the
next token. The in-memory limiter holds for one node; the Redis limiter
(issue 7) makes the same rules hold across nodes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from kabar import metrics
from kabar.config import RateRule
from kabar.errors import RateLimited


class RateLimiter(Protocol):
    async def hit(self, action: str, key: str, rule: RateRule) -> None:
        """Take one token or raise :class:`RateLimited`."""


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
