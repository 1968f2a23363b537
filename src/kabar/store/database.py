"""The database: one engine for the writer, one pool for readers, on SQLite or PostgreSQL.

SQLite runs in WAL mode with a single writer connection (the group-commit
writer owns it, so "database is locked" can never reach a client) and a pool of
read-only aiosqlite connections that see committed snapshots. The writer's
connection is a *synchronous* SQLAlchemy connection with a thread of its own
(``store/threaded.py``): a batch of sends costs at most one thread hop, for its
COMMIT. Transactions
are begun explicitly (``BEGIN IMMEDIATE`` for the writer) instead of by the
driver, which also makes SAVEPOINTs work. PostgreSQL readers use REPEATABLE READ so that one
sync read sees one consistent snapshot; the writer uses READ COMMITTED and
serialises batches on the ``stream_position`` row lock (see delivery/writer.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

from kabar.config import DatabaseConfig, sqlalchemy_url
from kabar.store.onehop import one_hop_url
from kabar.store.threaded import BUSY_TIMEOUT_MS, NEVER_WAIT, ThreadedConnection, begin_immediate

# Connecting fails at once when PostgreSQL is down (refused); the timeout only bounds an
# unreachable host. It is not shorter because a burst of requests opens many connections
# at once, each a new backend process, and on a loaded machine one can take over a second
# (the likeliest cause of a 503 seen once in CI): a busy but healthy database must not
# answer 503.
CONNECT_TIMEOUT_S = 5.0
POOL_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 10.0


def is_unavailable(error: BaseException) -> bool:
    """True if ``error`` means the database cannot be reached right now (answer 503).

    Constraint violations and programming errors are not outages and stay what they are.
    """
    if isinstance(error, IntegrityError | ProgrammingError):
        return False
    if isinstance(error, OperationalError | InterfaceError | DisconnectionError | PoolTimeout):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OSError | TimeoutError)


def describe_unavailable(error: BaseException) -> str:
    """What a 503's log line says of its cause: the class by its module, since several
    libraries name theirs ``TimeoutError`` (the pool's, asyncpg's connect, a command's),
    and the message, which tells them apart (e.g. the pool's size and timeout)."""
    kind = type(error)
    text = str(error).split("\n", 1)[0][:200]
    return f"{kind.__module__}.{kind.__qualname__}" + (f": {text}" if text else "")


class Database:
    """Owns the engines; hands out writer and reader connections."""

    def __init__(self, config: DatabaseConfig) -> None:
        self.url = sqlalchemy_url(config.url)
        self.dialect = make_url(self.url).get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        self.sync_write_engine: Engine | None = None
        self.async_write_engine: AsyncEngine | None = None
        if self.is_sqlite:
            _ensure_sqlite_directory(self.url)
            sync_url = self.url.replace("sqlite+aiosqlite://", "sqlite+pysqlite://", 1)
            self.sync_write_engine = create_engine(sync_url, pool_size=1, max_overflow=0)
            _configure_sqlite(self.sync_write_engine, config, writer=True)
            self.read_engine = _sqlite_engine(self.url, config, writer=False)
        else:
            # Short connect and pool timeouts: when PostgreSQL is unreachable a request
            # must fail fast with 503, not queue behind a dead pool.
            connect_args = {"timeout": CONNECT_TIMEOUT_S, "command_timeout": COMMAND_TIMEOUT_S}
            self.async_write_engine = create_async_engine(
                self.url,
                pool_size=2,
                max_overflow=2,
                pool_pre_ping=True,
                pool_timeout=POOL_TIMEOUT_S,
                connect_args=connect_args,
            )
            self.read_engine = create_async_engine(
                self.url,
                pool_size=config.pool_size,
                max_overflow=config.pool_size,
                pool_pre_ping=True,
                pool_timeout=POOL_TIMEOUT_S,
                connect_args=connect_args,
                isolation_level="REPEATABLE READ",
            )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction over one consistent snapshot."""
        async with self.read_engine.connect() as conn, conn.begin():
            yield conn

    async def connect_writer(self) -> ThreadedConnection | AsyncConnection:
        """The connection writes go through (the caller closes it)."""
        if self.sync_write_engine is not None:
            return await ThreadedConnection(self.sync_write_engine).connect()
        assert self.async_write_engine is not None
        return await self.async_write_engine.connect()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[ThreadedConnection | AsyncConnection]:
        """A write transaction for offline tools and start-up (migrations, secrets).

        While the writer runs it owns SQLite's only write connection: serving code
        writes through ``Writer.run`` instead.
        """
        conn = await self.connect_writer()
        try:
            async with conn.begin():
                yield conn
        finally:
            await conn.close()

    async def dispose(self) -> None:
        if self.sync_write_engine is not None:
            self.sync_write_engine.dispose()
        if self.async_write_engine is not None:
            await self.async_write_engine.dispose()
        await self.read_engine.dispose()


def _ensure_sqlite_directory(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str, config: DatabaseConfig, *, writer: bool) -> AsyncEngine:
    engine = create_async_engine(
        one_hop_url(url),  # aiosqlite, one trip to its thread per statement (store/onehop.py)
        pool_size=1 if writer else config.pool_size,
        max_overflow=0 if writer else config.pool_size,
        connect_args={"timeout": 30},
        # The pool's own reset (a ROLLBACK whenever a connection comes back) is replaced by
        # _reset_if_open below: every read has already ended its transaction by then.
        pool_reset_on_return=None,
    )
    _configure_sqlite(engine.sync_engine, config, writer=writer)
    event.listen(engine.sync_engine, "reset", _reset_if_open)
    return engine


def _reset_if_open(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """Roll back a connection coming back to the pool only if a transaction is still open.

    SQLAlchemy's default reset rolls back every returned connection, even after the read's
    COMMIT: through aiosqlite one more round trip to the connection's thread, of the ten or
    so a short read makes (4.4 % of its instructions under callgrind, and a thread
    wake-up). Whether SQLite is inside a transaction is a flag read here, without one."""
    if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def _configure_sqlite(engine: Engine, config: DatabaseConfig, *, writer: bool) -> None:
    synchronous = config.sqlite_synchronous.upper()
    if synchronous not in {"FULL", "NORMAL", "EXTRA"}:
        raise ValueError("database.sqlite_synchronous must be FULL, NORMAL or EXTRA")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        # The writer's connection never sleeps inside SQLite: its batches run on the event
        # loop and must fail fast when another process holds the write lock (run_here), and
        # where it may wait it does so in begin_immediate. A statement per batch cheaper
        # than switching the timeout off and on around each BEGIN.
        cursor.execute(f"PRAGMA busy_timeout={0 if writer else BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not writer:
            cursor.execute("PRAGMA query_only=1")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if writer:
            wait = not conn.info.get(NEVER_WAIT, False)
            begin_immediate(conn.connection.driver_connection, wait=wait)
        else:
            # Straight to the DB-API adapter (one trip to aiosqlite's thread): through
            # exec_driver_sql a BEGIN paid for an execution context, events and a result
            # (a stream reconnect's server CPU -7 % without them).
            conn.connection.dbapi_connection.execute("BEGIN")
