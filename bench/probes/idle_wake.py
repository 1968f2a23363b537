#!/usr/bin/env python3
"""Probe: how much slower does the same write run when the process has just been idle?

    python bench/probes/idle_wake.py [--sends 3000] [--pause-ms 0.7]

A sequential send is a ping-pong: the server idles while the client works, and the other
way round. This times the SQL of one lone send as kabar's writer runs it (BEGIN IMMEDIATE,
the position, the txn_id and membership reads, the INSERT, two UPDATEs, the fsync'd COMMIT;
WAL, synchronous=FULL, a schema shaped like kabar's) on a fresh SQLite file three ways:
back to back; after sleeping --pause-ms before each send (about the client's share of a
round trip), as in the benchmark; and after spinning on the CPU for as long instead. If the
slept run is much slower than the back-to-back one, part of a round trip is the machine
waking up (an idle vCPU, cold caches), not work kabar could remove. One JSON line to stdout.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE stream_position (id INTEGER PRIMARY KEY, pos INTEGER NOT NULL);
CREATE TABLE conversations (id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE members (conversation_id TEXT, account_id TEXT,
  PRIMARY KEY (conversation_id, account_id));
CREATE TABLE events (pos INTEGER PRIMARY KEY, type TEXT NOT NULL, conversation_id TEXT,
  seq INTEGER, sender_account TEXT, sender_device TEXT, txn_id TEXT, created_at INTEGER NOT NULL,
  content TEXT NOT NULL, UNIQUE (conversation_id, seq));
CREATE UNIQUE INDEX uq_txn ON events (sender_device, txn_id) WHERE txn_id IS NOT NULL;
"""
TXN = (
    "SELECT e.pos FROM (VALUES (?, ?)) AS wanted JOIN events e ON e.sender_device ="
    " wanted.column1 AND e.txn_id = wanted.column2 WHERE e.txn_id IS NOT NULL"
)
MEMBER = (
    "SELECT c.last_seq FROM (VALUES (?, ?)) AS wanted JOIN members m ON m.conversation_id ="
    " wanted.column1 AND m.account_id = wanted.column2 JOIN conversations c ON c.id ="
    " m.conversation_id"
)
CONTENT = '{"algorithm":"bench.plain","ciphertext":"c2VxIDEyMzQ="}'


def database(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    db.execute("INSERT INTO stream_position VALUES (1, 0)")
    db.execute("INSERT INTO conversations VALUES ('c', 0)")
    db.executemany("INSERT INTO members VALUES ('c', ?)", [(f"a{i}",) for i in range(101)])
    return db


def one_send(db: sqlite3.Connection, txn: str) -> float:
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    pos = db.execute("SELECT pos FROM stream_position WHERE id = 1").fetchone()[0] + 1
    db.execute(TXN, ("d0", txn)).fetchall()
    seq = db.execute(MEMBER, ("c", "a0")).fetchone()[0] + 1
    db.execute(
        "INSERT INTO events VALUES (?, 'message', 'c', ?, 'a0', 'd0', ?, ?, ?)",
        (pos, seq, txn, int(time.time() * 1000), CONTENT),
    )
    db.execute("UPDATE conversations SET last_seq = ? WHERE id = 'c'", (seq,))
    db.execute("UPDATE stream_position SET pos = ? WHERE id = 1", (pos,))
    db.execute("COMMIT")
    return time.perf_counter() - started


def run(db: sqlite3.Connection, mode: str, sends: int, pause: float, tag: str) -> float:
    took = []
    for i in range(sends):
        if mode == "sleep":
            time.sleep(pause)
        elif mode == "spin":
            until = time.perf_counter() + pause
            while time.perf_counter() < until:
                pass
        took.append(one_send(db, f"{tag}{i}"))
    return round(statistics.median(took) * 1e6, 1)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sends", type=int, default=3000)
    p.add_argument("--pause-ms", type=float, default=0.7)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = database(Path(tmp) / "probe.db")
        run(db, "back-to-back", 200, 0, "warm")
        medians: dict[str, list[float]] = {}
        # Twice each, interleaved, so that a drift of the machine shows as disagreement.
        for attempt in (1, 2):
            for mode in ("back-to-back", "sleep", "spin"):
                median = run(db, mode, a.sends, a.pause_ms / 1000, f"{mode}{attempt}-")
                medians.setdefault(f"{mode}_median_us", []).append(median)
        db.close()
    print(json.dumps({"sends": a.sends, "pause_ms": a.pause_ms, **medians}))


if __name__ == "__main__":
    main()
