"""The Redis broker and rate limiter: what one node publishes or counts, every node sees."""

from __future__ import annotations

import asyncio

import pytest

from kabar.accounts.ratelimit import RedisRateLimiter
from kabar.broker.redis import RedisBroker
from kabar.config import RateRule
from kabar.errors import RateLimited
from support.redis import RedisForTest


async def test_messages_reach_other_nodes_in_publish_order(redis_for: RedisForTest) -> None:
    sender = RedisBroker(redis_for.url, redis_for.prefix)
    receiver = RedisBroker(redis_for.url, redis_for.prefix)
    got: list[bytes] = []
    receiver.subscribe("stream", got.append)
    await receiver.start()
    await sender.start()
    for _ in range(100):
        if receiver.healthy:
            break
        await asyncio.sleep(0.02)
    for i in range(200):
        sender.publish("stream", str(i).encode())
    for _ in range(200):
        if len(got) == 200:
            break
        await asyncio.sleep(0.02)
    await sender.close()
    await receiver.close()
    assert got == [str(i).encode() for i in range(200)]


async def test_a_rate_limit_holds_across_nodes(redis_for: RedisForTest) -> None:
    node_a = RedisRateLimiter(redis_for.url, redis_for.prefix)
    node_b = RedisRateLimiter(redis_for.url, redis_for.prefix)
    rule = RateRule(count=3, period_s=60)
    await node_a.hit("login", "alice", rule)
    await node_b.hit("login", "alice", rule)
    await node_a.hit("login", "alice", rule)
    with pytest.raises(RateLimited) as error:
        await node_b.hit("login", "alice", rule)
    assert 1 <= error.value.retry_after <= 21
    await node_b.hit("login", "bob", rule)
    await node_a.close()
    await node_b.close()


async def test_the_limiter_lets_requests_through_when_redis_is_unreachable() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", "nowhere")
    for _ in range(5):
        await limiter.hit("login", "alice", RateRule(count=1, period_s=60))
    await limiter.close()
