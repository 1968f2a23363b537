#!/usr/bin/env python3
"""kabar's cost per HTTP request when the request does (almost) nothing: the HTTP-layer floor.

    python bench/http_floor.py --spawn [--requests 5000]

Times `GET /v1/sync?since=<current>&timeout=0` (authenticated; the sync fast path finds nothing
and returns an empty page without touching the database) and `GET /healthz`, first one request
at a time, then from 20 concurrent clients, with the aiohttp client of bench/messaging.py. Per
run: requests/s and the server's CPU ms per request (from --pid-file or --spawn). Compare with
the relay's CPU per HTTP send in ../shared/peers/ceiling (0.1-0.4 ms on the same machine) and
with a real send in bench/messaging.py. One JSON line to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from messaging import Api, Proc, Spawned, log, parser  # noqa: E402


async def measure(proc: Proc, request: Any, n: int, clients: int) -> dict[str, Any]:
    async def client(k: int) -> None:
        for _ in range(k):
            await request()

    c0, t0 = proc.cpu_s(), time.perf_counter()
    await asyncio.gather(*(client(n // clients) for _ in range(clients)))
    wall, cpu = time.perf_counter() - t0, proc.cpu_s() - c0
    done = clients * (n // clients)
    return {
        "clients": clients,
        "requests": done,
        "per_s": round(done / wall, 1),
        "srv_cpu_ms_per_request": round(1000 * cpu / done, 3) if proc.pid else None,
    }


async def run(base: str, pid_file: str | None, n: int) -> dict[str, Any]:
    proc = Proc(pid_file)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        api = Api(base, s)
        user = await api.register(f"hf{int(time.time())}")
        since = await api.current_token(user.token)

        async def sync() -> None:
            await api.sync(user.token, since, 0)

        async def health() -> None:
            await api.req("GET", "/healthz")

        res: dict[str, Any] = {}
        for name, request in (("sync_empty", sync), ("healthz", health)):
            await measure(proc, request, 200, 1)  # warm-up
            for clients in (1, 20):
                res[f"{name}_c{clients}"] = await measure(proc, request, n, clients)
                log(name, res[f"{name}_c{clients}"])
    return res


async def main(a: argparse.Namespace) -> None:
    server = Spawned(a) if a.spawn else None
    try:
        if server is not None:
            await server.start()
            a.pid_file, base = str(server.pid_file), server.base
        else:
            base = a.base
        res = await run(base, a.pid_file, a.requests)
    finally:
        if server is not None:
            await server.stop()
    print(json.dumps(res, separators=(",", ":")))


if __name__ == "__main__":
    p = parser()  # the server options of bench/messaging.py (--spawn, --base, --pid-file, ...)
    p.description = __doc__
    p.add_argument("--requests", type=int, default=5000, help="per measurement")
    asyncio.run(main(p.parse_args()))
