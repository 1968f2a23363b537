"""Ordering across nodes, and a device that was offline through a storm."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from reliability.cluster import SHAPES, cluster, scale, send_until_acked
from support.api import Api, User
from support.databases import PostgresTemplates, SqliteTemplates


async def _follow(api: Api, user: User, seen: list[dict[str, Any]], stop: asyncio.Event) -> None:
    """A reader long-polling the whole time, keeping every event it is given."""
    while not stop.is_set():
        body = await api.sync(user, timeout=500)
        seen.extend(body["events"])


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
async def test_every_reader_sees_one_order_and_sync_never_skips(
    shape: str,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    pg_templates: PostgresTemplates | None,
) -> None:
    senders_n, per_sender = scale(20, 100), scale(20, 100)
    async with cluster(shape, tmp_path, sqlite_templates, pg_templates) as (c, _):
        owner = await c.api(0).register()
        senders = [await c.api(i).register() for i in range(senders_n)]
        readers = [await c.api(i).register() for i in range(4)]
        group = await c.api(0).group(owner, *senders, *readers)
        for index, reader in enumerate(readers):
            await c.api(index).sync_all(reader)
        seen: list[list[dict[str, Any]]] = [[] for _ in readers]
        stop = asyncio.Event()
        followers = [
            asyncio.create_task(_follow(c.api(i), reader, seen[i], stop))
            for i, reader in enumerate(readers)
        ]

        async def send_all(index: int, sender: User) -> None:
            for i in range(per_sender):
                txn = f"{index}-{i}-{uuid.uuid4().hex[:6]}"
                await send_until_acked(c, sender, group, txn)

        await asyncio.gather(*(send_all(i, s) for i, s in enumerate(senders)))
        history = [e for e in await c.api(0).sync_all(owner) if e["type"] == "message"]
        assert len(history) == senders_n * per_sender
        deadline = asyncio.get_running_loop().time() + 30
        while any(sum(e["type"] == "message" for e in events) < len(history) for events in seen):
            assert asyncio.get_running_loop().time() < deadline, "a reader stopped receiving"
            await asyncio.sleep(0.1)
        stop.set()
        for task in followers:
            with contextlib.suppress(Exception):
                await task
        expected = [e["event_id"] for e in history]
        for events in seen:
            assert [e["event_id"] for e in events if e["type"] == "message"] == expected
        assert [e["seq"] for e in history] == list(range(2, 2 + len(history)))


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
async def test_a_device_offline_through_a_storm_gets_everything_exactly_once(
    shape: str,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    pg_templates: PostgresTemplates | None,
) -> None:
    messages, to_device = scale(1000, 10_000), scale(50, 500)
    async with cluster(shape, tmp_path, sqlite_templates, pg_templates) as (c, _):
        sleeper = await c.api(0).register()
        await c.api(0).sync_all(sleeper)
        token = sleeper.since
        senders = [await c.api(i).register() for i in range(10)]
        group = await c.api(0).group(senders[0], *senders[1:], sleeper)

        async def send_share(i: int) -> None:
            body = {
                "txn_id": f"k{i}",
                "type": "kabar.test",
                "messages": {sleeper.device_id: {"n": i}},
            }
            await c.api(i).call("POST", "/v1/to-device", senders[i % 10], json=body)

        async def send_messages(index: int) -> None:
            for i in range(index, messages, 10):
                await send_until_acked(c, senders[index], group, f"o{i}")

        await asyncio.gather(
            *(send_messages(i) for i in range(10)), *(send_share(i) for i in range(to_device))
        )
        sleeper.since = token
        received: list[dict[str, Any]] = []
        shares: list[dict[str, Any]] = []
        api = c.api(len(c.nodes) - 1)
        while True:
            body = await api.sync(sleeper, limit=500)
            received += [e for e in body["events"] if e["type"] == "message"]
            shares += body["to_device"]
            if not body["more"]:
                break
        assert sorted(e["txn_id"] for e in received) == sorted(f"o{i}" for i in range(messages))
        assert sorted(m["content"]["n"] for m in shares) == list(range(to_device))
