#!/usr/bin/env python3
"""Probe: how long does a server keep other requests waiting, e.g. during a big fan-out?

    python bench/probes/responsiveness.py http://127.0.0.1:8000 --seconds 3

Makes ``GET /healthz`` one at a time, back to back (a 2 ms pause between), for --seconds,
from its own process so that a busy benchmark client cannot delay it, and prints ONE JSON
line: every request's start (``time.time()``, so the caller can pick a window) and latency
in ms. ``bench/feed.py`` runs it across a publish to all subscribers: a request that
arrives while the server's event loop wakes thousands of sockets waits for the whole of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp


async def probe(base: str, seconds: float) -> list[tuple[float, float]]:
    samples: list[tuple[float, float]] = []
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started, t0 = time.time(), time.perf_counter()
            async with session.get(base + "/healthz") as response:
                await response.read()
            samples.append((started, (time.perf_counter() - t0) * 1000))
            await asyncio.sleep(0.002)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base", help="the server's base URL")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(json.dumps({"samples": asyncio.run(probe(args.base, args.seconds))}))


if __name__ == "__main__":
    main()
