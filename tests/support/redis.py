"""A Redis for tests that need one: the URL from KABAR_TEST_REDIS_URL and a key prefix of
their own, whose keys are deleted afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as redis_asyncio

REDIS_URL = os.environ.get("KABAR_TEST_REDIS_URL")
SKIP_REDIS = "Redis tests need KABAR_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)"


@dataclass(frozen=True)
class RedisForTest:
    url: str
    prefix: str


async def redis_for_test() -> AsyncIterator[RedisForTest]:
    if REDIS_URL is None:
        pytest.skip(SKIP_REDIS)
    prefix = f"kabartest{uuid.uuid4().hex[:10]}"
    yield RedisForTest(REDIS_URL, prefix)
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
