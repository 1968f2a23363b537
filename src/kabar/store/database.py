"""The database: one engine for the writer, one pool for readers, on SQLite or PostgreSQL.

SQLite runs in WAL mode with a single writer connection (the group-commit
writer owns it, so "database is locked" can never reach a client) and a pool of
read-only connections that see committed snapshots. Transactions are begun
explicitly (``BEGIN IMMEDIATE`` for the writer) instead of by the driver, which
also makes SAVEPOINTs work. PostgreSQL readers use REPEATABLE READ so that one
sync read sees one consistent snapshot; the writer uses READ COMMITTED and
serialises batches on the ``stream_position`` row lock (see delivery/writer.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from kabar.config import DatabaseConfig, sqlalchemy_url


class Database:
    """Owns the engines; hands out writer and reader connections."""

    def __init__(self, config: DatabaseConfig) -> None:
        self.url = sqlalchemy_url(config.url)
        self.dialect = make_url(self.url).get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        if self.is_sqlite:
            _ensure_sqlite_directory(self.url)
            self.write_engine = _sqlite_engine(self.url, config, writer=True)
            self.read_engine = _sqlite_engine(self.url, config, writer=False)
        else:
            self.write_engine = create_async_engine(
                self.url, pool_size=2, max_overflow=2, pool_pre_ping=True
            )
            self.read_engine = create_async_engine(
                self.url,
                pool_size=config.pool_size,
                max_overflow=config.pool_size,
                pool_pre_ping=True,
                isolation_level="REPEATABLE READ",
            )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction over one consistent snapshot."""
        async with self.read_engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. Only the writer and offline tools (migrations, CLI) use this."""
        async with self.write_engine.connect() as conn, conn.begin():
            yield conn

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        await self.read_engine.dispose()


def _ensure_sqlite_directory(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str, config: DatabaseConfig, *, writer: bool) -> AsyncEngine:
    synchronous = config.sqlite_synchronous.upper()
    if synchronous not in {"FULL", "NORMAL", "EXTRA"}:
        raise ValueError("database.sqlite_synchronous must be FULL, NORMAL or EXTRA")
    engine = create_async_engine(
        url,
        pool_size=1 if writer else config.pool_size,
        max_overflow=0 if writer else config.pool_size,
        connect_args={"timeout": 30},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not writer:
            cursor.execute("PRAGMA query_only=1")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine
