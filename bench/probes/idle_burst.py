#!/usr/bin/env python3
"""Probe: is a burst of concurrent sends slower when it follows a few seconds of idling?

    python bench/probes/idle_burst.py [--server-env KABAR_X=V ...] [--rounds 4]

`bench/interleaved.py` gives each server a short burst while the other has just been busy
and it has idled for seconds. This spawns one kabar server (as bench/messaging.py --spawn),
registers 21 accounts in one group, and then, round after round, sleeps 0.5 s or --pause s
(alternating) before a burst of 20 concurrent senders × --per-sender sends, with the bench
client. If the bursts after the long pause are slower, part of a short burst's time is the
machine (and the server) waking up. Pass --server-env KABAR_SERVER_... to vary the server.
One JSON line to stdout.
"""

from __future__ import annotations

import argparse
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


async def run(a: argparse.Namespace) -> dict[str, Any]:
    spawn = ["--spawn"] + [arg for kv in a.server_env for arg in ("--server-env", kv)]
    server = m.Spawned(m.parser().parse_args(spawn))
    await server.start()
    rates: dict[float, list[float]] = {0.5: [], a.pause: []}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            api = m.Api(server.base, session)
            prefix = f"ib{int(time.time())}"
            users = await m.gather_limited(8, [api.register(f"{prefix}u{i}") for i in range(21)])
            room = await api.create_group(users[0], "idle-burst", users[1:])

            async def sends(token: str, tag: str) -> None:
                for i in range(a.per_sender):
                    await api.send(token, room, f"{tag} {i}")

            for round_ in range(a.rounds):
                for pause in (0.5, a.pause):
                    await asyncio.sleep(pause)
                    started = time.perf_counter()
                    await asyncio.gather(
                        *(sends(u.token, f"r{round_}p{pause}s{j}") for j, u in enumerate(users[1:]))
                    )
                    wall = time.perf_counter() - started
                    rates[pause].append(20 * a.per_sender / wall)
                    m.log(f"round {round_}: after {pause} s idle {rates[pause][-1]:,.0f} sends/s")
    finally:
        await server.stop()
    return {
        "server_env": a.server_env,
        "per_sender": a.per_sender,
        **{
            f"after_{pause}s": {
                "median_per_s": round(statistics.median(values)),
                "each": [round(v) for v in values],
            }
            for pause, values in rates.items()
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--pause", type=float, default=7.0, help="the long pause, seconds")
    p.add_argument("--per-sender", type=int, default=100)
    p.add_argument("--server-env", action="append", default=[], metavar="KABAR_X=V")
    print(json.dumps(asyncio.run(run(p.parse_args()))))


if __name__ == "__main__":
    main()
