"""SQLite's writer connection and another process's write lock: the event loop never waits
for it (``run_here`` says WouldWait at once), the writer's thread waits for it, up to a limit."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection, make_url

from kabar.config import DatabaseConfig
from kabar.store import threaded
from kabar.store.database import Database
from kabar.store.threaded import ThreadedConnection, WouldWait
from support.databases import SqliteTemplates


@pytest.fixture
async def writer(
    tmp_path: Path, sqlite_templates: SqliteTemplates
) -> AsyncIterator[tuple[ThreadedConnection, str]]:
    url = await sqlite_templates.fresh(tmp_path)
    database = Database(DatabaseConfig(url=url))
    conn = await database.connect_writer()
    assert isinstance(conn, ThreadedConnection)
    path = make_url(database.url).database
    assert path
    try:
        yield conn, path
    finally:
        await conn.close()
        await database.dispose()


def _position(sync: Connection) -> int:
    driver = sync.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    driver.execute("UPDATE stream_position SET pos = pos + 1 WHERE id = 1")
    return int(driver.execute("SELECT pos FROM stream_position WHERE id = 1").fetchone()[0])


async def _write_with_run_here(conn: ThreadedConnection) -> int:
    return await conn.run_here(_position)


async def _write_here(conn: ThreadedConnection) -> int:
    async with conn.here(), conn.begin():
        return await conn.run_sync(_position)


@pytest.mark.parametrize(
    "write_on_the_loop", [_write_with_run_here, _write_here], ids=["run_here", "here"]
)
async def test_writing_on_the_loop_never_waits_for_the_lock_and_keeps_nothing(
    writer: tuple[ThreadedConnection, str],
    write_on_the_loop: Callable[[ThreadedConnection], Awaitable[int]],
) -> None:
    conn, path = writer
    before = await conn.run_here(_position)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(WouldWait):
            await write_on_the_loop(conn)
        assert time.monotonic() - started < 0.5  # it did not sleep on the lock
    finally:
        other.execute("COMMIT")
        other.close()
    async with conn.begin():  # the refused attempt kept nothing; the connection is whole
        assert await conn.run_sync(_position) == before + 1


async def test_the_writers_thread_waits_for_the_lock_then_writes(
    writer: tuple[ThreadedConnection, str],
) -> None:
    conn, path = writer
    before = await conn.run_here(_position)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")

    def release_soon() -> None:
        time.sleep(0.3)
        other.execute("COMMIT")

    releaser = threading.Thread(target=release_soon)
    started = time.monotonic()
    releaser.start()
    try:
        async with conn.begin():  # on the writer's thread, as a threaded batch begins
            after = await conn.run_sync(_position)
    finally:
        releaser.join()
        other.close()
    assert time.monotonic() - started >= 0.25  # it waited for the lock, then wrote
    assert after == before + 1


async def test_the_writers_thread_gives_up_after_the_busy_timeout(
    writer: tuple[ThreadedConnection, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, path = writer
    monkeypatch.setattr(threaded, "BUSY_TIMEOUT_MS", 200)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(Exception, match="database is locked"):
            async with conn.begin():
                pass
        assert 0.1 < time.monotonic() - started < 5
    finally:
        other.execute("COMMIT")
        other.close()


def _committing_threads(conn: ThreadedConnection) -> list[int]:
    """The threads SQLite runs each COMMIT of ``conn`` on, as they happen."""
    threads: list[int] = []
    driver = conn.connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)

    def trace(statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            threads.append(threading.get_ident())

    driver.set_trace_callback(trace)
    return threads


async def test_quick_commits_run_on_the_calling_thread(
    writer: tuple[ThreadedConnection, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Quick" is whatever this machine's fsync takes right now (a loaded CI machine's can
    # take milliseconds): the policy is what is tested here, not the storage.
    monkeypatch.setattr(threaded, "QUICK_COMMIT_SECONDS", 60.0)
    conn, _ = writer
    threads = _committing_threads(conn)
    before = await conn.run_here(_position)
    assert await conn.run_here(_position) == before + 1
    # No hand-off to the writer's thread and back while the storage commits quickly.
    assert threads == [threading.get_ident()] * 2
    assert conn.commit_seconds > 0  # measured, wherever the commit ran


async def test_slow_commits_run_on_the_writers_thread_and_still_commit(
    writer: tuple[ThreadedConnection, str],
) -> None:
    conn, path = writer
    threads = _committing_threads(conn)
    before = await conn.run_here(_position)
    conn.commit_seconds = 0.05  # as if the last commits had taken 50 ms: slow storage
    assert await conn.run_here(_position) == before + 1
    assert threads[0] == threading.get_ident()
    assert len(threads) == 2
    assert threads[1] != threading.get_ident()  # the loop did not wait for the fsync
    other = sqlite3.connect(path)
    try:  # durable for every other connection, whichever thread committed
        assert other.execute("SELECT pos FROM stream_position").fetchone()[0] == before + 1
    finally:
        other.close()


async def test_here_runs_a_transaction_on_the_calling_thread(
    writer: tuple[ThreadedConnection, str],
) -> None:
    conn, _ = writer
    threads = _committing_threads(conn)
    before = await conn.run_here(_position)
    async with conn.here():
        async with conn.begin():
            after = await conn.run_sync(_position)
    assert after == before + 1
    assert threads == [threading.get_ident()] * 2
    # Outside the block calls hop to the connection's thread again.
    async with conn.begin():
        await conn.run_sync(_position)
    assert threads[2] != threading.get_ident()
