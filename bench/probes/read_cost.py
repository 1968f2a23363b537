#!/usr/bin/env python3
"""Probe: what one short read costs on SQLite, through kabar's reader pool and otherwise.

    python bench/probes/read_cost.py [--reads 3000]

Migrates a fresh SQLite file, then times N reads of `BEGIN; SELECT 1; COMMIT` three ways,
each after 200 unmeasured ones: through `Database.read()` as kabar serves them (SQLAlchemy's
async engine on aiosqlite); the same with the pool's rollback-on-return forced back on (what
SQLAlchemy does by default, and kabar skips unless a transaction is left open); and
through a `ThreadedConnection` (one round trip to its thread per statement, as kabar's
writer runs). Wall and process CPU µs per read; one JSON line to stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import create_engine, text
from sqlalchemy.pool.base import reset_rollback

from kabar.config import DatabaseConfig
from kabar.store.database import Database, _configure_sqlite
from kabar.store.threaded import ThreadedConnection


async def timed(read: Callable[[], Awaitable[None]], n: int) -> dict[str, float]:
    for _ in range(200):
        await read()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await read()
    return {
        "wall_us": round((time.perf_counter() - wall) / n * 1e6),
        "cpu_us": round((time.process_time() - cpu) / n * 1e6),
    }


async def run(url: str, n: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    database = Database(DatabaseConfig(url=url))

    async def pooled() -> None:
        async with database.read() as conn:
            await conn.execute(text("SELECT 1"))

    results["database_read"] = await timed(pooled, n)
    pool: Any = database.read_engine.sync_engine.pool
    pool._reset_on_return = reset_rollback  # SQLAlchemy's default, forced back on
    results["database_read_with_default_reset"] = await timed(pooled, n)
    await database.dispose()

    engine = create_engine(url, pool_size=1, max_overflow=0)
    _configure_sqlite(engine, DatabaseConfig(url=url), writer=False)
    threaded = await ThreadedConnection(engine).connect()

    async def one_thread() -> None:
        async with threaded.begin():
            (await threaded.execute(text("SELECT 1"))).scalar()

    results["threaded_connection"] = await timed(one_thread, n)
    await threaded.close()
    engine.dispose()
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reads", type=int, default=3000)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'kabar.db'}"
        subprocess.run(
            [sys.executable, "-m", "kabar", "db", "upgrade"],
            env={"KABAR_DATABASE_URL": url, "PATH": ""},
            check=True,
            capture_output=True,
        )
        print(json.dumps({"reads": a.reads, **uvloop.run(run(url, a.reads))}))


if __name__ == "__main__":
    main()
