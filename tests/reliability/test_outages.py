"""Outages of Redis and PostgreSQL under load, and SQLite under many concurrent writers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from reliability.cluster import Cluster, cluster, scale, send_until_acked
from support.api import Api, ApiError, User
from support.databases import PostgresTemplates, SqliteTemplates

HANG = 10.0  # no request may take longer than this, outage or not
_txns = itertools.count()


class Load:
    """Senders hammering every node, recording what each request was answered."""

    def __init__(self, c: Cluster, group: str, senders: list[User]) -> None:
        self.c, self.group, self.senders = c, group, senders
        self.acked: dict[str, int] = {}
        self.refused: dict[str, User] = {}
        self.answers: list[tuple[int, float]] = []
        self.problems: list[str] = []
        self.stop = asyncio.Event()

    async def _one(self, index: int, sender: User) -> None:
        while not self.stop.is_set():
            txn = f"L{next(_txns)}"
            api = self.c.api(index)
            started = time.monotonic()
            try:
                sent = await asyncio.wait_for(api.send(sender, self.group, txn, txn_id=txn), HANG)
                self.acked[txn] = sent["seq"]
                self.answers.append((200, time.monotonic() - started))
            except ApiError as error:
                self.answers.append((error.status, time.monotonic() - started))
                self.refused[txn] = sender
                if error.status != 503 or "retry-after" not in error.headers:
                    self.problems.append(f"{txn}: {error.status} {error.body}")
            except TimeoutError:
                self.problems.append(f"{txn}: no answer within {HANG} s")
            except httpx.HTTPError as error:
                self.problems.append(f"{txn}: {error!r}")
            await asyncio.sleep(0.01)

    async def run(self) -> None:
        await asyncio.gather(*(self._one(i, s) for i, s in enumerate(self.senders)))


async def _setup(c: Cluster, senders: int) -> tuple[str, list[User], list[User]]:
    users = [await c.api(i).register() for i in range(senders)]
    readers = [await c.api(i).register() for i in range(len(c.nodes))]
    group = await c.api(0).group(users[0], *users[1:], *readers)
    for i, reader in enumerate(readers):
        await c.api(i).sync_all(reader)
    return group, users, readers


async def _received(c: Cluster, index: int, reader: User) -> set[str]:
    events = await c.api(index).sync_all(reader)
    return {e["txn_id"] for e in events if e["type"] == "message"}


@pytest.mark.slow
async def test_a_redis_outage_delays_nothing_and_loses_nothing(
    tmp_path: Path, sqlite_templates: SqliteTemplates, pg_templates: PostgresTemplates | None
) -> None:
    outage = scale(5, 30)
    async with cluster(
        "postgres-redis-2", tmp_path, sqlite_templates, pg_templates, proxy_redis=True
    ) as (c, proxies):
        group, senders, readers = await _setup(c, 6)
        load = Load(c, group, senders)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(1)
        proxies["redis"].cut()
        await asyncio.sleep(outage)
        proxies["redis"].restore()
        restored = time.monotonic()
        await asyncio.sleep(1)
        load.stop.set()
        await running
        assert load.problems == []
        assert all(status in (200, 503) for status, _ in load.answers)
        converged = None
        while time.monotonic() - restored < 30:
            seen = [await _received(c, i, r) for i, r in enumerate(readers)]
            if all(set(load.acked) <= s for s in seen):
                converged = time.monotonic() - restored
                break
            await asyncio.sleep(0.2)
        assert converged is not None, "delivery did not converge after Redis came back"
        print(
            f"redis outage {outage}s: {len(load.acked)} acked, converged {converged:.1f}s "
            f"after recovery, slowest answer {max(t for _, t in load.answers):.2f}s"
        )


@pytest.mark.slow
async def test_a_postgres_outage_answers_503_and_recovers_without_duplicates(
    tmp_path: Path, sqlite_templates: SqliteTemplates, pg_templates: PostgresTemplates | None
) -> None:
    outage = scale(5, 30)
    async with cluster(
        "postgres-redis-2", tmp_path, sqlite_templates, pg_templates, proxy_database=True
    ) as (c, proxies):
        group, senders, readers = await _setup(c, 6)
        load = Load(c, group, senders)
        running = asyncio.create_task(load.run())
        await asyncio.sleep(1)
        proxies["database"].cut()
        await asyncio.sleep(outage)
        proxies["database"].restore()
        restored = time.monotonic()
        first_success: float | None = None
        before = len(load.acked)
        while time.monotonic() - restored < 30 and first_success is None:
            await asyncio.sleep(0.1)
            if len(load.acked) > before:
                first_success = time.monotonic() - restored
        load.stop.set()
        await running
        assert load.problems == []
        assert any(status == 503 for status, _ in load.answers), "the outage was not noticed"
        assert first_success is not None, "sends did not recover"

        # Clients resend what was refused, with the same txn_id: nothing may double. Each
        # client resends its own in order, all clients at once (as real ones would).
        async def resend(sender: User) -> None:
            for txn, refused_from in sorted(load.refused.items()):
                if refused_from is sender and txn not in load.acked:
                    sent = await send_until_acked(c, sender, group, txn)
                    load.acked[txn] = sent["seq"]

        await asyncio.gather(*(resend(sender) for sender in senders))
        events = [e for e in await c.api(0).sync_all(readers[0]) if e["type"] == "message"]
        txns = [e["txn_id"] for e in events]
        assert len(txns) == len(set(txns)), "a retried send was stored twice"
        assert set(load.acked) <= set(txns), "an acknowledged send was not committed"
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs)
        assert len(seqs) == seqs[-1] - seqs[0] + 1
        print(
            f"postgres outage {outage}s: first success {first_success:.1f}s after recovery, "
            f"{sum(s == 503 for s, _ in load.answers)} answered 503"
        )


@pytest.mark.slow
async def test_two_hundred_concurrent_sqlite_writers_never_see_a_lock(
    tmp_path: Path, sqlite_templates: SqliteTemplates, pg_templates: PostgresTemplates | None
) -> None:
    async with cluster("sqlite-1", tmp_path, sqlite_templates, pg_templates) as (c, _):
        api = c.api(0)
        hub = await api.register()
        failures: list[Any] = []
        # The same 200 concurrent writers, from ten HTTP clients of twenty: on one client
        # the test's time went to that client's pool (httpcore scans every connection for
        # every request and keeps only 20 alive, so the rest reconnected again and again).
        clients = [Api(api.base_url) for _ in range(10)]

        async def writer(i: int) -> None:
            client = clients[i % len(clients)]
            try:
                user = await client.register()
                direct = await client.direct(user, hub)
                group = await client.group(user, hub, title=f"g{i}")
                for n in range(3):
                    await client.send(user, direct, f"{i}-{n}")
                    await client.send(user, group, f"{i}-{n}")
                await client.call("PATCH", "/v1/account", user, json={"display_name": f"w{i}"})
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                failures.append(error)

        try:
            await asyncio.gather(*(writer(i) for i in range(200)))
        finally:
            for client in clients:
                await client.close()
        assert failures == []
        with contextlib.suppress(FileNotFoundError):
            log = (c.tmp_path / "node0.log").read_text()
            assert "database is locked" not in log
        messages = [e for e in await api.sync_all(hub) if e["type"] == "message"]
        assert len(messages) == 200 * 6
