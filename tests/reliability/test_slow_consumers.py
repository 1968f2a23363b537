"""Slow consumers: bounded server memory; slow sockets are closed and resume without loss.

The latency side of this scenario (normal clients' p99 with and without slow
ones) is measured by ``bench/slow_consumers.py``: tests assert outcomes, not times.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from reliability.cluster import SHAPES, cluster, scale
from support.api import Api, User, text_of
from support.databases import PostgresTemplates, SqliteTemplates

PAYLOAD = "x" * 30_000
SLOW_READ_INTERVAL = 1.0


async def _ready(api: Api, user: User) -> tuple[Any, str]:
    ws = await api.stream(user)
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "ready":
            return ws, frame["token"]


async def _read_all(ws: Any, count: int, seen: list[str]) -> None:
    while len(seen) < count:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if frame["type"] == "event" and frame["event"]["type"] == "message":
            seen.append(text_of(frame["event"]).split(":")[0])


async def _read_slowly(ws: Any, seen: list[str], token: list[str], wake: asyncio.Event) -> None:
    """Read one frame a second until ``wake``, then drain what is left until the server
    has cut us off (a close frame, or an aborted connection if the close could not
    get through the full socket)."""
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame["type"] == "event":
                token[0] = frame["token"]
                if frame["event"]["type"] == "message":
                    seen.append(text_of(frame["event"]).split(":")[0])
            if not wake.is_set():
                await asyncio.sleep(SLOW_READ_INTERVAL)
    except ConnectionClosed:
        return


async def _slow_consumers_closed(c: Any) -> float:
    total = 0.0
    for api in c.apis:
        text = (await api.http.get("/metrics")).text
        for line in text.splitlines():
            if line.startswith("kabar_slow_consumers_total "):
                total += float(line.split()[1])
    return total


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
async def test_slow_consumers_are_cut_off_and_resume_while_memory_stays_bounded(
    shape: str,
    tmp_path: Path,
    sqlite_templates: SqliteTemplates,
    pg_templates: PostgresTemplates | None,
) -> None:
    # Normal clients follow a busy group of short messages; the slow ones follow a group of
    # large ones, enough to fill their sockets (the kernel buffers megabytes first).
    normal_n, slow_n, messages = scale(20, 500), scale(3, 10), scale(300, 1000)
    large = 300
    async with cluster(
        shape, tmp_path, sqlite_templates, pg_templates, KABAR_STREAM_WS_BUFFER_FRAMES="64"
    ) as (c, _):
        sender = await c.api(0).register()
        normal = [await c.api(i).register() for i in range(normal_n)]
        slow = [await c.api(i).register() for i in range(slow_n)]
        busy = await c.api(0).group(sender, *normal, title="busy")
        heavy = await c.api(0).group(sender, *slow, title="heavy")
        normal_sockets = [await _ready(c.api(i), u) for i, u in enumerate(normal)]
        slow_sockets = [await _ready(c.api(i), u) for i, u in enumerate(slow)]
        rss_before = [c.rss_kb(i) for i in range(len(c.nodes))]
        normal_seen: list[list[str]] = [[] for _ in normal]
        slow_seen: list[list[str]] = [[] for _ in slow]
        slow_tokens = [[token] for _, token in slow_sockets]
        readers = [
            asyncio.create_task(_read_all(ws, messages, seen))
            for (ws, _), seen in zip(normal_sockets, normal_seen, strict=True)
        ]
        sender_done = asyncio.Event()
        slow_readers = [
            asyncio.create_task(_read_slowly(ws, seen, token, sender_done))
            for (ws, _), seen, token in zip(slow_sockets, slow_seen, slow_tokens, strict=True)
        ]
        peak = list(rss_before)

        async def send_busy() -> None:
            for i in range(messages):
                await c.api(i).send(sender, busy, f"{i}:short")

        async def send_heavy() -> None:
            nonlocal peak
            for i in range(large):
                await c.api(i).send(sender, heavy, f"{i}:{PAYLOAD}")
                if i % 25 == 0:
                    peak = [max(p, c.rss_kb(n)) for n, p in enumerate(peak)]

        await asyncio.gather(send_busy(), send_heavy())
        await asyncio.gather(*readers)
        sender_done.set()
        await asyncio.gather(*(asyncio.wait_for(t, 60) for t in slow_readers))
        assert all(seen == [str(i) for i in range(messages)] for seen in normal_seen)
        assert all(len(seen) < large for seen in slow_seen), "a slow consumer was not cut off"
        # Cut off by its full buffer (close 4008, counted below) or, if the server's
        # keepalive ping went unanswered first, by the WebSocket layer: either way it resumes.
        print(f"slow consumers closed for a full buffer: {await _slow_consumers_closed(c):.0f}")
        growth_mb = max(p - b for p, b in zip(peak, rss_before, strict=True)) / 1024
        assert growth_mb < 200, f"server memory grew by {growth_mb:.0f} MB"
        for index, user in enumerate(slow):
            ws = await c.api(index).stream(user, since=slow_tokens[index][0])
            rest: list[str] = []
            await _read_all(ws, large - len(slow_seen[index]), rest)
            await ws.close()
            assert slow_seen[index] + rest == [str(i) for i in range(large)]
        for ws, _ in normal_sockets:
            await ws.close()
