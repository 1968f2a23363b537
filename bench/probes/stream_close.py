#!/usr/bin/env python3
"""Probe: how long does a closed /v1/stream stay registered on the server?

    python bench/probes/stream_close.py --spawn

Opens one authenticated stream, closes it cleanly, then reads kabar_live_listeners from
/metrics every second for 20 s. A server that releases the listener on disconnect shows the
gauge back at its old value at once; one line per second to stderr, a JSON summary to stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).parents[1]))
import messaging as m  # noqa: E402


async def listeners(s: aiohttp.ClientSession, base: str) -> float:
    async with s.get(base + "/metrics") as r:
        for line in (await r.text()).splitlines():
            if line.startswith("kabar_live_listeners "):
                return float(line.split()[1])
    return float("nan")


async def probe(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s:
        api = m.Api(base, s)
        user = await api.register(f"sc{int(time.time())}")
        since = await api.current_token(user.token)
        before = await listeners(s, base)
        async with m.stream(base, user.token, since):
            during = await listeners(s, base)
        closed_at = time.perf_counter()
        released_after = None
        for second in range(1, 21):
            await asyncio.sleep(1)
            now = await listeners(s, base)
            m.log(f"{second:2d} s after close: kabar_live_listeners {now}")
            if now <= before:
                released_after = round(time.perf_counter() - closed_at, 1)
                break
    return {"before": before, "connected": during, "released_after_s": released_after}


async def main(a: Any) -> None:
    server = m.Spawned(a) if a.spawn else None
    try:
        if server is not None:
            await server.start()
            base = server.base
        else:
            base = a.base
        res = await probe(base)
    finally:
        if server is not None:
            await server.stop()
    print(json.dumps(res))


if __name__ == "__main__":
    p = m.parser()
    p.description = __doc__
    asyncio.run(main(p.parse_args()))
