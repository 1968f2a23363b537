"""SQLite's reader pool: a connection comes back to the pool outside any transaction, and only
one still inside a transaction costs a ROLLBACK on its way back (a thread round trip each)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kabar.config import DatabaseConfig
from kabar.store.database import Database, describe_unavailable, is_unavailable
from support.databases import SqliteTemplates


@pytest.fixture
async def database(tmp_path: Path, sqlite_templates: SqliteTemplates) -> AsyncIterator[Database]:
    url = await sqlite_templates.fresh(tmp_path)
    # One connection: every read below reuses the one before it.
    database = Database(DatabaseConfig(url=url, pool_size=1))
    database.read_engine.sync_engine.pool._max_overflow = 0  # type: ignore[attr-defined]
    try:
        yield database
    finally:
        await database.dispose()


def count_rollbacks(database: Database) -> list[Any]:
    dialect = database.read_engine.sync_engine.dialect
    calls: list[Any] = []
    original = dialect.do_rollback

    def counted(dbapi_connection: Any) -> None:
        calls.append(dbapi_connection)
        original(dbapi_connection)

    dialect.do_rollback = counted  # type: ignore[method-assign]
    return calls


async def position(database: Database) -> int:
    async with database.read() as conn:
        return int((await conn.execute(text("SELECT pos FROM stream_position"))).scalar_one())


async def failing_read(database: Database) -> None:
    async with database.read() as conn:
        await conn.execute(text("SELECT 1"))
        raise LookupError  # the read's own ROLLBACK ends it


async def test_reads_that_ended_their_transaction_are_not_rolled_back_again(
    database: Database,
) -> None:
    await position(database)
    rollbacks = count_rollbacks(database)
    for _ in range(3):
        assert await position(database) == 0
    with pytest.raises(LookupError):
        await failing_read(database)
    assert len(rollbacks) == 1  # that one, and no pool reset after any of the four


async def test_a_connection_returned_inside_a_transaction_is_rolled_back_before_reuse(
    database: Database,
) -> None:
    async with database.read_engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute("BEGIN")  # behind SQLAlchemy's back
        assert raw.driver_connection.in_transaction
    # Were it still open, the next read's BEGIN would fail.
    assert await position(database) == 0
    async with database.read_engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert not raw.driver_connection.in_transaction


def test_a_503s_log_line_tells_the_timeouts_apart() -> None:
    pool = PoolTimeout("QueuePool limit of size 2 overflow 2 reached, connection timed out")
    assert is_unavailable(pool)
    assert is_unavailable(TimeoutError())
    assert describe_unavailable(pool).startswith("sqlalchemy.exc.TimeoutError: QueuePool limit")
    assert describe_unavailable(TimeoutError()) == "builtins.TimeoutError"
    assert describe_unavailable(OSError("line one\nline two")) == "builtins.OSError: line one"
