"""Public accounts at scale: feed page latency, and live fan-out of a new article.

Prints numbers; asserts nothing. Two scenarios, each on a fresh SQLite database
(or ``--database postgresql://…/db``: it is emptied first) seeded in bulk through
the store functions, served by ``kabar serve`` in a subprocess, driven by aiohttp
and raw WebSocket clients from this process:

1. **Feed.** 1,000 public accounts, 200,000 published articles, a reader
   subscribed to 500 accounts (the instance-walk plan) and one subscribed to 10
   (the per-account plan). Sequential ``GET /v1/public/feed`` first pages: p50/p99.
   Also the same call inside the service, without HTTP.
2. **Fan-out.** One public account with 10,000 subscribers (notifications on),
   all online over WebSocket. An editor publishes a signed article over HTTP:
   time until the publisher's answer and until the last subscriber has
   ``article.published``, and how long ``GET /healthz`` from another process
   (``bench/probes/responsiveness.py``) waits meanwhile.

Usage: ``python bench/feed.py [--articles 200000] [--subscribers 10000] [--database URL]``.
Results: docs/performance.md, "Public accounts (bench/feed.py)".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import text

from kabar.accounts.models import Principal, Role, Status
from kabar.public.canonical import ArticleRevision, revision_payload
from kabar.subscriptions.feed import FeedService
from public_seed import fresh_database, seed_fanout, seed_feed
from serving import free_port, wait_until_healthy


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(label: str, millis: list[float]) -> None:
    print(
        f"  {label}: n={len(millis)} p50={percentile(millis, 0.5):.2f} ms "
        f"p90={percentile(millis, 0.9):.2f} ms p99={percentile(millis, 0.99):.2f} ms "
        f"max={max(millis):.2f} ms"
    )


# -- the server -------------------------------------------------------------------------------


@asynccontextmanager
async def kabar_server(database_url: str, directory: Path) -> AsyncIterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "KABAR_DATABASE_URL": database_url,
        "KABAR_SERVER_PORT": str(port),
        "KABAR_SERVER_PUBLIC_URL": base,
        "KABAR_MEDIA_DIRECTORY": str(directory / "media"),
        "KABAR_RATE_LIMITS_ENABLED": "no",
        "KABAR_STREAM_WS_BUFFER_FRAMES": "100000",
        "KABAR_SERVER_LOG_LEVEL": "warning",
    }
    log = (directory / "server.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kabar", "serve", env=env, stdout=log, stderr=log
    )
    try:
        await wait_until_healthy(base, seconds=30, exited=lambda: process.returncode is not None)
        yield base
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
        log.close()


# -- scenario 1: the feed ---------------------------------------------------------------------


async def bench_feed(args: argparse.Namespace, directory: Path) -> None:
    print(f"\nfeed: {args.accounts:,} accounts, {args.articles:,} articles")
    url, database = await fresh_database(args.database, directory, "feed")
    started = time.perf_counter()
    readers = await seed_feed(database, args.accounts, args.articles)
    if not database.is_sqlite:  # what autovacuum does soon after a bulk load
        async with database.write() as conn:
            await conn.execute(text("ANALYZE"))
    print(f"  seeded in {time.perf_counter() - started:.1f} s")
    service = FeedService(database, "http://bench", 100)
    for name, (account_id, device_id, _) in readers.items():
        principal = Principal(account_id, name, device_id, Role.USER, Status.ACTIVE)
        for _ in range(20):
            await service.page(principal)
        timings = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            await service.page(principal)
            timings.append((time.perf_counter() - t0) * 1000)
        report(f"service, {name}, first page of 20", timings)
    await database.dispose()
    async with kabar_server(url, directory) as base, aiohttp.ClientSession() as session:
        for name, (_, _, token) in readers.items():
            headers = {"Authorization": f"Bearer {token}"}
            path = f"{base}/v1/public/feed?limit=20"
            for _ in range(20):
                async with session.get(path, headers=headers) as response:
                    assert response.status == 200, await response.text()
                    await response.read()
            timings = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                async with session.get(path, headers=headers) as response:
                    await response.read()
                timings.append((time.perf_counter() - t0) * 1000)
            report(f"HTTP GET /v1/public/feed, {name}", timings)


# -- scenario 2: fan-out ----------------------------------------------------------------------


async def subscriber(
    session: aiohttp.ClientSession,
    ws_url: str,
    token: str,
    ready: asyncio.Event,
    arrived: list[float],
    everyone: asyncio.Event,
    expected: int,
) -> None:
    """Connect, wait for the article, then stay connected until everyone has it."""
    async with session.ws_connect(ws_url, compress=0, max_msg_size=0) as ws:
        await ws.send_str(json.dumps({"type": "auth", "token": token, "since": None}))
        async for message in ws:
            frame = json.loads(message.data)
            if frame["type"] == "ready":
                ready.set()
            elif frame["type"] == "event" and frame["event"]["type"] == "article.published":
                arrived.append(time.perf_counter())
                if len(arrived) == expected:
                    everyone.set()
                break
        await everyone.wait()


async def bench_fanout(args: argparse.Namespace, directory: Path) -> None:
    print(f"\nfan-out: one account, {args.subscribers:,} subscribers online over WebSocket")
    url, database = await fresh_database(args.database, directory, "fanout")
    seeded = await seed_fanout(database, args.subscribers)
    await database.dispose()
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        kabar_server(url, directory) as base,
        aiohttp.ClientSession(connector=connector) as sockets,
    ):
        ws_url = base.replace("http://", "ws://") + "/v1/stream"
        arrived: list[float] = []
        everyone = asyncio.Event()
        events = [asyncio.Event() for _ in seeded["tokens"]]
        tasks = []
        started = time.perf_counter()
        gate = asyncio.Semaphore(200)

        async def connect(token: str, ready: asyncio.Event) -> None:
            async with gate:
                tasks.append(
                    asyncio.create_task(
                        subscriber(sockets, ws_url, token, ready, arrived, everyone, len(events))
                    )
                )
                await ready.wait()

        await asyncio.gather(
            *(connect(t, e) for t, e in zip(seeded["tokens"], events, strict=True))
        )
        elapsed = time.perf_counter() - started
        print(f"  {len(tasks):,} subscribers connected and ready in {elapsed:.1f} s")
        if pause := float(os.environ.get("KABAR_BENCH_PAUSE", "0")):
            print(f"  pausing {pause:g} s before publishing (attach a profiler now)", flush=True)
            await asyncio.sleep(pause)
        async with aiohttp.ClientSession() as probe:
            idle = []
            for _ in range(10):
                t0 = time.perf_counter()
                async with probe.get(base + "/healthz") as response:
                    await response.read()
                idle.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.2)
        print(f"  with everyone connected, GET /healthz takes {statistics.median(idle):.1f} ms")
        headers = {"Authorization": f"Bearer {seeded['editor_token']}"}
        markdown = "# Breaking: the ferry runs on time\n\nAll of it, for once."
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.post(
                f"{base}/v1/public/accounts/big_news/articles", json={"markdown": markdown}
            ) as response:
                draft = await response.json()
            when = datetime.now(UTC).replace(microsecond=0)
            revision = ArticleRevision(
                handle="big_news",
                slug=draft["slug"],
                title=draft["title"],
                markdown=markdown,
                revision=1,
                published_at=when,
                device_id=seeded["device_id"],
                account="editor",
            )
            body = {
                "title": draft["title"],
                "markdown": markdown,
                "revision": 1,
                "published_at": when.isoformat(),
                "signature": seeded["olm"].sign(revision_payload(revision)).to_base64(),
            }
            # Other requests meanwhile, from a process of their own (this one is busy
            # receiving every subscriber's frame).
            prober = await asyncio.create_subprocess_exec(
                sys.executable,
                str(Path(__file__).parent / "probes" / "responsiveness.py"),
                base,
                "--seconds",
                "4",
                stdout=asyncio.subprocess.PIPE,
            )
            await asyncio.sleep(1)  # its first requests: warm, before the publish
            t0 = time.perf_counter()
            wall0 = time.time()
            async with session.post(
                f"{base}/v1/public/articles/{draft['id']}/publish", json=body
            ) as response:
                assert response.status == 200, await response.text()
            acknowledged = time.perf_counter()

        await asyncio.wait_for(everyone.wait(), 60)
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        delays = [(t - t0) * 1000 for t in arrived]
        print(f"  publish acknowledged after {(acknowledged - t0) * 1000:.1f} ms")
        print(
            f"  article.published received by {len(delays):,}: first {min(delays):.0f} ms, "
            f"p50 {statistics.median(delays):.0f} ms, p99 {percentile(delays, 0.99):.0f} ms, "
            f"last {max(delays):.0f} ms"
        )
        out, _ = await prober.communicate()
        samples = json.loads(out)["samples"]
        window_end = wall0 + max(delays) / 1000
        before = [ms for started, ms in samples if started < wall0]
        during = [ms for started, ms in samples if wall0 <= started <= window_end]
        if before and during:
            print(
                f"  GET /healthz from another process: {statistics.median(before):.1f} ms "
                f"before the publish; while the subscribers received it, {len(during)} "
                f"requests, median {statistics.median(during):.1f} ms, "
                f"slowest {max(during):.0f} ms"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--database", help="a PostgreSQL URL to use instead of SQLite (emptied!)")
    parser.add_argument("--only", choices=("feed", "fanout"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kabar-bench-") as tmp:
        if args.only != "fanout":
            await bench_feed(args, Path(tmp))
        if args.only != "feed":
            await bench_fanout(args, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
