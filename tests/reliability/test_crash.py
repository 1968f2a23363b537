"""Crash: nodes killed with SIGKILL during a send storm lose and duplicate nothing."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from reliability.cluster import SHAPES, Cluster, cluster, scale, send_until_acked
from support.api import User
from support.databases import PostgresTemplates, SqliteTemplates


async def _storm(c: Cluster, conversations: list[tuple[str, User]], total: int) -> dict[str, int]:
    acked: dict[str, int] = {}
    queue: asyncio.Queue[tuple[str, User, str]] = asyncio.Queue()
    for i in range(total):
        conversation_id, sender = conversations[i % len(conversations)]
        queue.put_nowait((conversation_id, sender, f"m{i}"))

    async def worker() -> None:
        while not queue.empty():
            conversation_id, sender, txn = queue.get_nowait()
            sent = await send_until_acked(c, sender, conversation_id, txn)
            acked[txn] = sent["seq"]

    await asyncio.gather(*(worker() for _ in range(20)))
    return acked


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
async def test_random_sigkills_during_a_storm_lose_and_duplicate_nothing(
    shape: str,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    pg_templates: PostgresTemplates | None,
) -> None:
    total, kills = scale(600, 10_000), scale(2, 10)
    async with cluster(shape, tmp_path, sqlite_templates, pg_templates) as (c, _):
        reader = await c.api(0).register()
        reader_phone = await c.api(1).login(reader.username)
        conversations = []
        for i in range(20):
            sender = await c.api(i).register()
            conversation_id = await c.api(i).group(sender, reader, title=f"crash {i}")
            conversations.append((conversation_id, sender))

        async def killer() -> None:
            for _ in range(kills):
                await asyncio.sleep(random.uniform(0.3, 1.2))
                await c.kill_and_restart(random.randrange(len(c.nodes)))

        acked, _ = await asyncio.gather(_storm(c, conversations, total), killer())

        assert len(acked) == total
        orders = []
        for device in (reader, reader_phone):
            messages = [e for e in await c.api(0).sync_all(device) if e["type"] == "message"]
            orders.append([e["event_id"] for e in messages])
            txns = [e["txn_id"] for e in messages]
            assert len(txns) == len(set(txns)), "a message was stored twice"
            assert set(txns) == set(acked), "an acknowledged message was lost"
            for conversation_id, _sender in conversations:
                seqs = [e["seq"] for e in messages if e["conversation_id"] == conversation_id]
                assert seqs == list(range(2, 2 + len(seqs))), "seq has a gap"
            assert {e["txn_id"]: e["seq"] for e in messages} == acked
        assert orders[0] == orders[1], "two devices saw different orders"
