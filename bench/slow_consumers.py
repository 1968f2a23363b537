#!/usr/bin/env python3
"""What slow consumers cost everyone else: delivery latency with and without them.

    python bench/slow_consumers.py --spawn [--normal 500] [--slow 10] [--messages 300]

One server. N normal clients follow a busy group over the WebSocket stream; a sender posts
short messages to it one after another (lock-step: the next once every client has the
last, or 10 s passed). Latency = send start -> a client's task has the frame, over every
(message, client) pair. Meanwhile S clients follow a second group flooded with 30 KB
messages. The run is made twice with the same flood: first the S clients read at full
speed (the baseline), then they read one frame a second, so their sockets and buffers fill
and the server must cut them off (close 4008). Only their slowness differs between the
runs; the others' p99 should stay within 1.5x of the baseline (issue 7's criterion, printed
here, not asserted: timings belong in benchmarks). One JSON line to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from messaging import Api, Proc, Spawned, User, lat_stats, log, parser  # noqa: E402

HEAVY = "x" * 30_000


async def open_stream(session: aiohttp.ClientSession, base: str, user: User) -> Any:
    ws = await session.ws_connect(base.replace("http", "ws", 1) + "/v1/stream", max_msg_size=0)
    await ws.send_json({"type": "auth", "token": user.token, "since": None})
    while True:
        frame = json.loads((await ws.receive()).data)
        if frame["type"] == "ready":
            return ws


async def normal_reader(
    ws: Any,
    tag: str,
    seen: dict[int, dict[int, float]],
    index: int,
    done: dict[int, asyncio.Event],
    total: int,
) -> None:
    async for message in ws:
        if message.type != aiohttp.WSMsgType.TEXT:
            return
        frame = json.loads(message.data)
        if frame["type"] == "event" and frame["event"]["type"] == "message":
            body = frame["event"]["content"]["ciphertext"]
            if body.startswith(tag):
                i = int(body.split()[1])
                seen.setdefault(i, {}).setdefault(index, time.perf_counter())
                if len(seen[i]) == total:
                    done.setdefault(i, asyncio.Event()).set()


async def flood_reader(ws: Any, pause: float, closed: list[int | None]) -> None:
    """Follow the flooded group, reading a frame every ``pause`` seconds (0: at full speed)."""
    ended = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    while True:
        message = await ws.receive()
        if message.type in ended:
            closed.append(ws.close_code)
            return
        if pause:
            await asyncio.sleep(pause)


async def measure(
    api: Api, sender: User, busy: str, sockets: list[Any], messages: int
) -> dict[str, Any]:
    tag = f"lat-{uuid.uuid4().hex[:6]}"
    seen: dict[int, dict[int, float]] = {}
    done: dict[int, asyncio.Event] = {}
    readers = [
        asyncio.create_task(normal_reader(ws, tag, seen, i, done, len(sockets)))
        for i, ws in enumerate(sockets)
    ]
    sent: dict[int, float] = {}
    try:
        for i in range(messages):
            sent[i] = time.perf_counter()
            await api.send(sender.token, busy, f"{tag} {i}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.setdefault(i, asyncio.Event()).wait(), 10)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    lat = [(t - sent[i]) * 1000 for i, d in seen.items() for t in d.values()]
    lost = messages * len(sockets) - len(lat)
    return {"pairs": len(lat), "lost_pairs": lost, **lat_stats(lat)}


async def main(a: argparse.Namespace) -> None:
    server = Spawned(a) if a.spawn else None
    if server:
        await server.start()
    base = server.base if server else a.base
    proc = Proc(str(server.pid_file) if server else a.pid_file)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            api = Api(base, s)
            prefix = f"sc{uuid.uuid4().hex[:6]}"
            sender = await api.register(f"{prefix}sender")
            normal = [await api.register(f"{prefix}n{i}") for i in range(a.normal)]
            slow = [await api.register(f"{prefix}s{i}") for i in range(a.slow)]
            busy = await api.create_group(sender, "busy", normal)
            heavy = await api.create_group(sender, "heavy", slow)
            sockets = [await open_stream(s, base, u) for u in normal]
            runs: dict[str, dict[str, Any]] = {}
            closed: list[int | None] = []
            rss_growth = 0.0
            for name, pause in (("baseline", 0.0), ("with_slow", 1.0)):
                flooded = [await open_stream(s, base, u) for u in slow]
                readers = [asyncio.create_task(flood_reader(ws, pause, closed)) for ws in flooded]
                rss_before = proc.rss_kb() or 0

                async def flood(tag: str = name) -> None:
                    for i in range(a.heavy_messages):
                        await api.send(sender.token, heavy, f"{tag} {i} {HEAVY}")

                log(f"{name}: {a.slow} clients on the flooded group read every {pause} s")
                flooding = asyncio.create_task(flood())
                runs[name] = await measure(api, sender, busy, sockets, a.messages)
                await flooding
                rss_growth = max(rss_growth, ((proc.rss_kb() or 0) - rss_before) / 1024)
                log(f"   {runs[name]}")
                for task in readers:
                    task.cancel()
                await asyncio.gather(*readers, return_exceptions=True)
                for ws in flooded:
                    with contextlib.suppress(Exception):
                        await ws.close()
            for ws in sockets:
                with contextlib.suppress(Exception):
                    await ws.close()
        baseline, loaded = runs["baseline"], runs["with_slow"]
        ratio = loaded["p99_ms"] / baseline["p99_ms"] if baseline["p99_ms"] else None
        print(
            json.dumps(
                {
                    "normal": a.normal,
                    "slow": a.slow,
                    "messages": a.messages,
                    "baseline": baseline,
                    "with_slow": loaded,
                    "p99_ratio": round(ratio, 2) if ratio else None,
                    "within_1_5x": ratio is not None and ratio <= 1.5,
                    "slow_closed": closed,
                    "server_rss_growth_mb": round(rss_growth, 1),
                },
                separators=(",", ":"),
            )
        )
    finally:
        if server:
            await server.stop()


if __name__ == "__main__":
    p = parser()
    p.description = __doc__
    p.add_argument("--normal", type=int, default=500, help="normal WebSocket clients")
    p.add_argument("--slow", type=int, default=10, help="slow clients (one frame a second)")
    p.add_argument("--heavy-messages", type=int, default=300, help="30 KB messages to the slow")
    p.set_defaults(messages=200)
    asyncio.run(main(p.parse_args()))
