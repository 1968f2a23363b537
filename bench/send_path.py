#!/usr/bin/env python3
"""Where a kabar send spends its time: the server's services driven in-process, without HTTP.

Builds kabar's services on a fresh SQLite file (as `kabar serve` does, on uvloop), then measures
each layer of the write and delivery paths separately, so that the HTTP benchmark's numbers
(bench/messaging.py) can be split into HTTP/FastAPI, the group-commit writer, the database
driver stack and SQLite itself:

  floor        stdlib sqlite3, same file settings (WAL, synchronous=FULL): one INSERT + COMMIT
  round trip   one `SELECT 1` through SQLAlchemy async + aiosqlite on a reader connection,
               and the aiosqlite thread hops (queued calls to its worker thread) it takes
  send_seq     N sequential ConversationService.send: ms per send, SQL statements and aiosqlite
               hops per send, and the writer's own batch time (kabar_writer_batch_seconds)
  concurrent   S tasks x K sequential sends at once: batch sizes, ms per send
  fanout       R accounts waiting in SyncService.sync (the long-poll, minus HTTP), lock-step
               messages: ms from send start until all R waiters returned, per message
  janitor      the to-device janitor's flush after R devices synced (what it does every second
               while they poll): ms the writer is busy with it, and a send queued behind it

Nothing here changes kabar; the counters wrap aiosqlite and SQLAlchemy events in this process.
Progress to stderr, ONE JSON line to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite
import uvloop
from prometheus_client import REGISTRY
from sqlalchemy import event, text

from kabar.app import build_services, shutdown_services
from kabar.config import load_config
from kabar.conversations.service import Envelope
from kabar.services import Services


def log(*a: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


class Counters:
    """SQL statements on the writer's engine and aiosqlite worker-thread hops, process-wide."""

    def __init__(self, services: Services) -> None:
        self.statements = 0
        self.hops = 0
        original = aiosqlite.Connection._execute

        async def counted(conn: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
            self.hops += 1
            return await original(conn, fn, *args, **kw)

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign]

        # The writer's hot statements bypass SQLAlchemy (store/batch.py), so count what SQLite
        # itself executes on the writer's connection (BEGIN and COMMIT included).
        @event.listens_for(services.database.sync_write_engine, "checkout")
        def _trace(dbapi_connection: Any, *_: Any) -> None:
            dbapi_connection.set_trace_callback(self._count)

    def _count(self, _statement: str) -> None:
        self.statements += 1

    def mark(self) -> tuple[int, int]:
        return self.statements, self.hops


def histogram(name: str) -> tuple[float, float]:
    """(sum, count) of a kabar histogram in this process."""
    return (
        REGISTRY.get_sample_value(f"{name}_sum") or 0.0,
        REGISTRY.get_sample_value(f"{name}_count") or 0.0,
    )


def floor(path: Path, n: int) -> dict[str, Any]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, room TEXT, seq INTEGER, body TEXT)")
    db.execute("CREATE INDEX t_room ON t (room, seq)")
    t0 = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (room, seq, body) VALUES (?, ?, ?)", ("r", i, "x" * 60))
        db.execute("COMMIT")
    wall = time.perf_counter() - t0
    db.close()
    return {"n": n, "ms_per_commit": round(1000 * wall / n, 3)}


async def round_trip(services: Services, counters: Counters, n: int) -> dict[str, Any]:
    async with services.database.read_engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        hops0 = counters.hops
        t0 = time.perf_counter()
        for _ in range(n):
            await conn.execute(text("SELECT 1"))
        wall = time.perf_counter() - t0
    return {
        "n": n,
        "ms_per_statement": round(1000 * wall / n, 3),
        "aiosqlite_hops_per_statement": round((counters.hops - hops0) / n, 2),
    }


async def setup(services: Services, n_users: int) -> tuple[list[Any], str]:
    tag = f"p{int(time.time())}"
    sessions = [
        await services.accounts.register(f"{tag}u{i}", "bench-pw", None, None, "127.0.0.1")
        for i in range(n_users)
    ]
    principals = [await services.auth.authenticate(s.access_token) for s in sessions]
    names = [p.username for p in principals[1:]]
    conversation = await services.conversations.create_group(principals[0], "bench", names)
    return principals, conversation


def envelope(body: str) -> Envelope:
    return Envelope(algorithm="bench.plain", ciphertext=body)


async def sequential(
    services: Services, counters: Counters, who: Any, conv: str, n: int
) -> dict[str, Any]:
    send = services.conversations.send
    for i in range(20):  # warm-up
        await send(who, conv, f"w{time.time_ns()}{i}", envelope("warmup"), "127.0.0.1")
    (s0, h0), (b_sum0, b_n0) = counters.mark(), histogram("kabar_writer_batch_seconds")
    t0 = time.perf_counter()
    for i in range(n):
        await send(who, conv, f"s{time.time_ns()}{i}", envelope(f"seq {i}"), "127.0.0.1")
    wall = time.perf_counter() - t0
    (s1, h1), (b_sum1, b_n1) = counters.mark(), histogram("kabar_writer_batch_seconds")
    return {
        "n": n,
        "sends_per_s": round(n / wall, 1),
        "ms_per_send": round(1000 * wall / n, 3),
        "writer_batch_ms": round(1000 * (b_sum1 - b_sum0) / max(1, b_n1 - b_n0), 3),
        "statements_per_send": round((s1 - s0) / n, 2),
        "aiosqlite_hops_per_send": round((h1 - h0) / n, 2),
    }


async def concurrent(services: Services, senders: list[Any], conv: str, k: int) -> dict[str, Any]:
    send = services.conversations.send

    async def one(si: int, who: Any) -> None:
        for i in range(k):
            await send(who, conv, f"c{si}-{time.time_ns()}{i}", envelope(f"c{si} {i}"), "127.0.0.1")

    (j_sum0, j_n0) = histogram("kabar_writer_batch_jobs")
    t0 = time.perf_counter()
    await asyncio.gather(*(one(si, who) for si, who in enumerate(senders)))
    wall = time.perf_counter() - t0
    (j_sum1, j_n1) = histogram("kabar_writer_batch_jobs")
    n = len(senders) * k
    return {
        "senders": len(senders),
        "per_sender": k,
        "sends_per_s": round(n / wall, 1),
        "jobs_per_batch": round((j_sum1 - j_sum0) / max(1, j_n1 - j_n0), 2),
    }


async def fanout(
    services: Services, sender: Any, receivers: list[Any], n_msgs: int
) -> dict[str, Any]:
    conv = await services.conversations.create_group(
        sender, "fanout", [r.username for r in receivers]
    )
    sync, hub = services.sync, services.hub
    per_msg = []
    for i in range(-1, n_msgs):
        since = hub.watermark
        waiters = [
            asyncio.create_task(sync.sync(r.account_id, r.device_id, since, 30_000, 500))
            for r in receivers
        ]
        await asyncio.sleep(0)  # every waiter reaches its listener
        t0 = time.perf_counter()
        await services.conversations.send(
            sender, conv, f"f{time.time_ns()}", envelope(f"fan {i}"), "127.0.0.1"
        )
        pages = await asyncio.gather(*waiters)
        if i >= 0:
            per_msg.append(1000 * (time.perf_counter() - t0))
        assert all(p.items for p in pages), "a waiter returned without the message"
    per_msg.sort()
    return {
        "receivers": len(receivers),
        "msgs": n_msgs,
        "ms_per_message_p50": round(per_msg[len(per_msg) // 2], 3),
        "ms_per_message_mean": round(sum(per_msg) / len(per_msg), 3),
    }


async def janitor(
    services: Services, sender: Any, receivers: list[Any], conv: str
) -> dict[str, Any]:
    """One janitor flush after every receiver synced once, and a send queued right behind it."""
    services.to_device_janitor._acked.clear()  # start from nothing pending
    for r in receivers:
        await services.sync.sync(r.account_id, r.device_id, services.hub.watermark, 0, 500)
    t0 = time.perf_counter()
    flush = asyncio.create_task(services.to_device_janitor.flush())
    await asyncio.sleep(0)  # the flush job is queued first
    await services.conversations.send(
        sender, conv, f"j{time.time_ns()}", envelope("j"), "127.0.0.1"
    )
    send_ms = 1000 * (time.perf_counter() - t0)
    await flush
    return {"devices": len(receivers), "send_behind_flush_ms": round(send_ms, 2)}


async def main(a: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kabar-sendpath-"))
    res: dict[str, Any] = {"floor": floor(tmp / "floor.db", a.messages)}
    log("floor", res["floor"])
    config = load_config(
        env={},
        overrides={
            "database": {"url": f"sqlite:///{tmp / 'kabar.db'}"},
            "media": {"directory": str(tmp / "media")},
            "transparency": {"key_file": str(tmp / "transparency-log.key")},
            "rate_limits": {"enabled": False},
            "security": {"argon2_memory_kib": 1024, "argon2_time_cost": 1},
        },
    )
    services = await build_services(config, run_migrations=True)
    try:
        counters = Counters(services)
        res["round_trip"] = await round_trip(services, counters, a.messages)
        log("round trip", res["round_trip"])
        principals, conv = await setup(services, 1 + max(a.senders, a.receivers))
        res["send_seq"] = await sequential(services, counters, principals[0], conv, a.messages)
        log("send_seq", res["send_seq"])
        senders = principals[1 : 1 + a.senders]
        res["concurrent"] = await concurrent(services, senders, conv, a.per_sender)
        log("concurrent", res["concurrent"])
        receivers = principals[1 : 1 + a.receivers]
        res["fanout"] = await fanout(services, principals[0], receivers, a.fanout_msgs)
        log("fanout", res["fanout"])
        res["janitor"] = await janitor(services, principals[0], receivers, conv)
        log("janitor", res["janitor"])
    finally:
        await shutdown_services(services)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, separators=(",", ":")))


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--messages", type=int, default=2000, help="floor, round trip, send_seq")
    p.add_argument("--senders", type=int, default=20)
    p.add_argument("--per-sender", type=int, default=100)
    p.add_argument("--receivers", type=int, default=100)
    p.add_argument("--fanout-msgs", type=int, default=100)
    uvloop.run(main(p.parse_args()))
