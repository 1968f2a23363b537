"""Lookups by a list of keys search an index for each key on SQLite; none scans a table.

SQLite answers ``(a, b) IN (VALUES …)`` by scanning a whole index, so such a lookup costs
more with every row ever stored (the write path's txn_id and membership checks once did,
and slowed every send as the database grew). This runs the store's key-list lookups on a
migrated database, captures the SQL they send, and asks SQLite how it would run it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from kabar.config import DatabaseConfig
from kabar.moderation.transparency.frontier import NodeId
from kabar.store import batch, transparency
from kabar.store.database import Database
from kabar.store.threaded import ThreadedConnection
from support.databases import SqliteTemplates


def _plans(sync: Connection, statements: list[str]) -> list[str]:
    driver = sync.connection.driver_connection
    assert driver is not None
    return [
        " / ".join(str(row[3]) for row in driver.execute(f"EXPLAIN QUERY PLAN {sql}"))
        for sql in statements
    ]


async def _captured(conn: ThreadedConnection, run: Any) -> list[str]:
    """The statements ``run`` sends, with their parameters inlined (SQLite's trace)."""
    statements: list[str] = []

    def trace(sync: Connection, on: bool) -> None:
        driver = sync.connection.driver_connection
        assert driver is not None
        driver.set_trace_callback(statements.append if on else None)

    await conn.run_sync(trace, True)
    try:
        await run()
    finally:
        await conn.run_sync(trace, False)
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


async def test_key_list_lookups_search_an_index_for_each_key(
    tmp_path: Path, sqlite_templates: SqliteTemplates
) -> None:
    database = Database(DatabaseConfig(url=await sqlite_templates.fresh(tmp_path)))
    conn = await database.connect_writer()
    assert isinstance(conn, ThreadedConnection)
    try:
        keys = [("d1", "t1"), ("d2", "t2"), ("d3", "t3")]
        pairs = [("c1", "a1"), ("c2", "a2")]

        async def write_path() -> None:
            await conn.run_sync(batch.events_by_txn, keys)
            await conn.run_sync(batch.memberships_and_seqs, pairs)

        async def log_nodes() -> None:
            await transparency.read_nodes(conn, [NodeId(0, 1), NodeId(1, 0), NodeId(2, 3)])

        statements = await _captured(conn, write_path) + await _captured(conn, log_nodes)
        assert len(statements) == 3
        plans = await conn.run_sync(_plans, statements)
        for sql, plan in zip(statements, plans, strict=True):
            assert "SEARCH" in plan, (sql, plan)
            scanned = [step for step in plan.split(" / ") if step.startswith("SCAN")]
            # Only the list of wanted keys itself may be read from start to end.
            assert all("CONSTANT ROWS" in step or "wanted" in step for step in scanned), (
                sql,
                plan,
            )
    finally:
        await conn.close()
        await database.dispose()
