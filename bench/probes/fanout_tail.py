#!/usr/bin/env python3
"""Probe: where does fanout_100's p99 come from? Per-message latencies of one lock-step run.

    python bench/probes/fanout_tail.py --spawn [--receivers 100] [--fanout-msgs 200]

Runs bench/messaging.py's fanout phase once (after 300 sends into an everyone group, so the
receivers have history), recording for each message how long its PUT took and when its first
and last receiver had it. Prints the messages whose *first* receiver waited > 150 ms (the send
itself was late: the server stalled) with their send times, so a periodic stall shows as
messages about one interval apart. One JSON line to stdout.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).parents[1]))
import messaging as m  # noqa: E402


async def probe(base: str, pid_file: str | None, r: int, n_msgs: int) -> dict[str, Any]:
    steps: list[m.LockStep] = []
    put_ms: dict[int, tuple[float, float]] = {}  # msg -> (PUT ms, send start)
    original_run = m.LockStep.run

    async def run(self: m.LockStep, send: Any, n: int) -> int:
        steps.append(self)

        async def timed_send(i: int) -> object:
            t0 = time.perf_counter()
            result = await send(i)
            put_ms[i] = ((time.perf_counter() - t0) * 1000, t0)
            return result

        return await original_run(self, timed_send, n)

    m.LockStep.run = run  # type: ignore[method-assign]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        api = m.Api(base, s)
        proc = m.Proc(pid_file)
        users = await m.gather_limited(
            8, [api.register(f"ft{int(time.time())}u{i}") for i in range(r + 1)]
        )
        room = await api.create_group(users[0], "all", users[1:])
        for i in range(300):
            await api.send(users[0].token, room, f"history {i}")
        res = await m.phase_fanout(api, proc, users[0], users[1:], n_msgs)
    step = steps[-1]
    t_first = put_ms[0][1]
    per_msg = []
    for i in range(n_msgs):
        lat = sorted((t - step.sent[i]) * 1000 for t in step.seen.get(i, {}).values())
        if lat:
            per_msg.append({"i": i, "first_ms": lat[0], "last_ms": lat[-1]})
    stalled = [
        {
            "i": p["i"],
            "send_at_s": round(put_ms[p["i"]][1] - t_first, 2),
            "put_ms": round(put_ms[p["i"]][0], 1),
            "first_ms": round(p["first_ms"], 1),
            "last_ms": round(p["last_ms"], 1),
        }
        for p in per_msg
        if p["first_ms"] > 150
    ]
    return {
        "fanout": {k: res[k] for k in ("receivers", "msgs", "p50_ms", "p99_ms", "max_ms")},
        "put_ms_median": round(statistics.median(v[0] for v in put_ms.values()), 1),
        "last_receiver_ms_median": round(statistics.median(p["last_ms"] for p in per_msg), 1),
        "first_receiver_ms_median": round(statistics.median(p["first_ms"] for p in per_msg), 1),
        "stalled_messages": stalled,
    }


async def main(a: Any) -> None:
    server = m.Spawned(a) if a.spawn else None
    try:
        if server is not None:
            await server.start()
            a.pid_file, base = str(server.pid_file), server.base
        else:
            base = a.base
        res = await probe(base, a.pid_file, max(a.receivers), a.fanout_msgs)
    finally:
        if server is not None:
            await server.stop()
    for p in res["stalled_messages"]:
        m.log("stalled:", p)
    print(json.dumps(res, separators=(",", ":")))


if __name__ == "__main__":
    p = m.parser()
    p.description = __doc__
    p.set_defaults(receivers=[100])
    asyncio.run(main(p.parse_args()))
