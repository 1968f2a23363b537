"""SQLite reads through aiosqlite: one trip to the connection's thread per statement, and
the same results, row counts, ids and errors as SQLAlchemy's own adapter gives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kabar.config import DatabaseConfig
from kabar.store.database import Database
from kabar.store.onehop import one_hop_url
from support.databases import SqliteTemplates

metadata = MetaData()
names = Table(
    "names",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
)


@pytest.fixture
async def database(tmp_path: Path, sqlite_templates: SqliteTemplates) -> AsyncIterator[Database]:
    database = Database(DatabaseConfig(url=await sqlite_templates.fresh(tmp_path), pool_size=1))
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(one_hop_url(f"sqlite+aiosqlite:///{tmp_path / 'names.db'}"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


def count_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every call queued to an aiosqlite connection's thread from now on."""
    trips: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return trips


async def test_a_read_is_one_trip_per_statement(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.read() as conn:  # the pool's connection exists from here on
        await conn.execute(text("SELECT 1"))
    trips = count_trips(monkeypatch)
    async with database.read() as conn:
        position = (await conn.execute(text("SELECT pos FROM stream_position"))).scalar_one()
        rows = (await conn.execute(text("SELECT 1 AS one, 'two' AS two UNION SELECT 3, 'x'"))).all()
    assert position == 0
    assert [(row.one, row.two) for row in rows] == [(1, "two"), (3, "x")]
    # BEGIN, two SELECTs, COMMIT (SQLAlchemy's adapter took 3 + 4 + 4 + 1).
    assert len(trips) == 4


async def test_writes_give_row_counts_and_new_ids(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        many = await conn.execute(insert(names), [{"name": n} for n in ("a", "b", "c")])
        one = await conn.execute(insert(names).values(name="d"))
        renamed = await conn.execute(text("UPDATE names SET name = name || '!' WHERE id <= 2"))
        listed = (await conn.execute(text("SELECT id, name FROM names ORDER BY id"))).all()
        first = (await conn.execute(text("SELECT name FROM names ORDER BY id"))).fetchmany()
    assert many.rowcount == 3
    assert one.inserted_primary_key == (4,)
    assert renamed.rowcount == 2
    assert [tuple(row) for row in listed] == [(1, "a!"), (2, "b!"), (3, "c"), (4, "d")]
    assert [row.name for row in first] == ["a!"]  # DB-API's default size


async def test_errors_are_the_drivers_and_leave_the_connection_usable(
    engine: AsyncEngine, database: Database
) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(names).values(name="taken"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(names).values(name="taken"))
    with pytest.raises(OperationalError, match="no such table"):
        async with database.read() as conn:
            await conn.execute(text("SELECT * FROM no_such_table"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM names"))).scalar_one() == 1
    async with database.read() as conn:
        assert (await conn.execute(text("SELECT pos FROM stream_position"))).scalar_one() == 0
