"""Whole kabar deployments for the reliability battery: nodes as subprocesses, killable.

Two shapes: ``sqlite-1`` (one node, SQLite, in-process broker — the default
install) and ``postgres-redis-2`` (two nodes sharing PostgreSQL and Redis). For
outage tests the database or Redis is reached through a :class:`Proxy` the test
can cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from support.api import Api, User
from support.databases import POSTGRES_URL, SKIP_POSTGRES, PostgresTemplates, SqliteTemplates
from support.proxy import Proxy
from support.redis import REDIS_URL, SKIP_REDIS
from support.server import CHEAP_ARGON2, ServerProcess

FULL = os.environ.get("KABAR_RELIABILITY") == "full"
SHAPES = ["sqlite-1", pytest.param("postgres-redis-2", marks=pytest.mark.postgres)]


def scale(short: int, full: int) -> int:
    """Sizes: the short battery runs in `make test`, the full one in `make test-reliability`."""
    return full if FULL else short


def via_proxy(url: str, proxy: Proxy) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


@dataclass
class Cluster:
    nodes: list[ServerProcess]
    database_url: str
    tmp_path: Path
    apis: list[Api] = field(default_factory=list)

    def api(self, index: int) -> Api:
        return self.apis[index % len(self.apis)]

    def random_api(self) -> Api:
        return random.choice(self.apis)

    async def kill_and_restart(self, index: int, downtime: float = 0.2) -> None:
        node = self.nodes[index]
        node.kill()
        await asyncio.sleep(downtime)
        await node.start()

    def rss_kb(self, index: int) -> int:
        process = self.nodes[index].process
        assert process is not None
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def node_env(
    database_url: str, broker_url: str, prefix: str, data: Path, **extra: str
) -> dict[str, str]:
    env = {
        "KABAR_DATABASE_URL": database_url,
        "KABAR_DATABASE_SQLITE_SYNCHRONOUS": "FULL",
        "KABAR_BROKER_URL": broker_url,
        "KABAR_BROKER_KEY_PREFIX": prefix,
        "KABAR_RATE_LIMITS_ENABLED": "false",
        "KABAR_MEDIA_DIRECTORY": str(data / "media"),
        "KABAR_SERVER_LOG_LEVEL": "warning",
    }
    env.update({f"KABAR_SECURITY_{k.upper()}": str(v) for k, v in CHEAP_ARGON2.items()})
    env.update(extra)
    return env


@asynccontextmanager
async def cluster(
    shape: str,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    pg_templates: PostgresTemplates | None,
    *,
    proxy_database: bool = False,
    proxy_redis: bool = False,
    **extra_env: str,
) -> AsyncIterator[tuple[Cluster, dict[str, Proxy]]]:
    proxies: dict[str, Proxy] = {}
    prefix = f"kabarrel{uuid.uuid4().hex[:8]}"
    async with contextlib.AsyncExitStack() as stack:
        if shape == "sqlite-1":
            database_url = await sqlite_templates.fresh(tmp_path)
            broker_url, count = "memory://", 1
        else:
            if POSTGRES_URL is None or pg_templates is None:
                pytest.skip(SKIP_POSTGRES)
            if REDIS_URL is None:
                pytest.skip(SKIP_REDIS)
            database_url = await stack.enter_async_context(pg_templates.fresh())
            broker_url, count = REDIS_URL, 2
        node_database_url = database_url
        if proxy_database:
            parts = urlsplit(database_url)
            proxies["database"] = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
            node_database_url = via_proxy(database_url, proxies["database"])
        if proxy_redis and broker_url.startswith("redis://"):
            parts = urlsplit(broker_url)
            proxies["redis"] = Proxy(parts.hostname or "127.0.0.1", parts.port or 6379).start()
            broker_url = via_proxy(broker_url, proxies["redis"])
        env = node_env(node_database_url, broker_url, prefix, tmp_path, **extra_env)
        nodes = [ServerProcess(env, tmp_path / f"node{i}.log") for i in range(count)]
        for node in nodes:
            await node.start()
        result = Cluster(nodes, database_url, tmp_path)
        result.apis = [Api(node.base_url) for node in nodes]
        try:
            yield result, proxies
        finally:
            for api in result.apis:
                await api.close()
            for node in nodes:
                node.stop()
            for proxy in proxies.values():
                proxy.close()


RETRYABLE = (httpx.HTTPError, OSError)


async def send_until_acked(
    cluster: Cluster, user: User, conversation_id: str, txn_id: str, deadline: float = 60
) -> dict[str, Any]:
    """A client that resends with the same txn_id until the server acknowledges."""
    loop = asyncio.get_running_loop()
    stop = loop.time() + deadline
    attempt = 0
    while True:
        api = cluster.api(attempt)
        attempt += 1
        try:
            return await api.send(user, conversation_id, txn_id, txn_id=txn_id)
        except RETRYABLE:
            pass
        except AssertionError as error:  # ApiError: only 503 is worth retrying
            if getattr(error, "status", None) != 503:
                raise
        if loop.time() > stop:
            raise TimeoutError(f"{txn_id} never acknowledged")
        await asyncio.sleep(0.05 + random.random() * 0.1)
