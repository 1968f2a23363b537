"""A synchronous SQLAlchemy connection with a thread of its own, driven from asyncio.

SQLite's writer uses this instead of the aiosqlite engine: a whole group-commit
batch can then run as *one* call into the writer thread (``run_sync``), where
the async engine pays a thread hop and a greenlet switch per statement (about
0.15 ms each on this class of machine — more than the statements themselves).
Code that needs the async style still works: ``execute`` hops once per
statement and returns a fully buffered result.

``run_here`` goes one step further for the writer's message batches: their
statements run on the *calling* thread (the event loop's), and the COMMIT — the
fsync, the one slow part — crosses to the writer thread only on slow storage.
Run on the writer thread, each statement hands the GIL back and has to win it
again from a busy event loop (a dozen times a batch); under load that convoy,
not SQLite, bounded the writer. The statements take ~0.1 ms; a wait for another
process's write lock would be unbounded, so ``run_here`` never waits: it raises
:class:`WouldWait` and the caller takes the threaded path, which may. "Slow"
means commits averaging :data:`QUICK_COMMIT_SECONDS` or more. Handing a quick
COMMIT to the thread looks like it frees the loop during the fsync, but the thread's answer
needs the GIL back from that busy loop, which holds it until it idles or the
interpreter's switch interval (5 ms) runs out: the batch's completion, and the
next batch, wait on that convoy. Committing here instead, 20 concurrent
senders got +25 % sends/s at 14 % less server CPU per send, in bigger batches
(``bench/ab.py``, docs/performance.md); a lone sequential send saves two thread
wake-ups (~0.17 ms on a VM, more than the fsync).

``here()`` does the same for the writer's other batches (generic jobs: async code
using the async interface below): inside it, every call runs on the calling thread
instead of hopping to the connection's, and the transaction's BEGIN raises
:class:`WouldWait` instead of waiting for another connection's lock. A to-device
message, say, made a dozen hops, each waiting for the GIL on its way back; run here,
to-device writes went +57 % one at a time and +105 % from 20 senders, at a third to
a half less server CPU each (``bench/ab.py --write to-device``).

It offers the subset of ``AsyncConnection`` the writer and offline tools use
(``execute``, ``run_sync``, ``begin``, ``begin_nested``, ``close``), so
``Executor`` (what every query function takes) accepts either.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, Result
from sqlalchemy.sql.base import Executable

T = TypeVar("T")


class Executor(Protocol):
    """Anything queries can run on: ``AsyncConnection`` or :class:`ThreadedConnection`."""

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...

    @property
    def dialect(self) -> Dialect: ...


BUSY_TIMEOUT_MS = 30_000
"""How long a connection waits for another connection's write lock (the writer's waits in
:func:`begin_immediate`, only where it may block)."""
QUICK_COMMIT_SECONDS = 0.001
"""``run_here`` commits on the calling thread while commits average less than this: the
event loop then never stalls longer than a quick fsync, and slow storage (a network disk,
a busy device) commits on the writer's thread instead."""
_COMMIT_SMOOTHING = 0.2  # weight of the newest commit in the running average


class WouldWait(Exception):
    """Another connection holds SQLite's write lock: taking it now would block the caller."""


class _NoRows:
    """The result of a statement that returns no rows: just its row count."""

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount


class _Thread:
    """One thread running the calls handed to it, in order, answering asyncio futures.

    Leaner than a one-worker ``ThreadPoolExecutor``: a ``SimpleQueue`` put to start a call
    and one ``call_soon_threadsafe`` to answer it, where ``run_in_executor`` adds a lock,
    a condition, a concurrent future and the chaining of two futures — a send's batch
    crosses this boundary twice, holding the GIL each time.
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, fn, args))
        return future

    def stop(self) -> None:
        self._calls.put(None)

    def _run(self) -> None:
        while (item := self._calls.get()) is not None:
            loop, future, fn, args = item
            try:
                answer: tuple[Callable[..., None], Any] = (_succeed, fn(*args))
            except BaseException as exc:  # the caller re-raises it; this thread carries on
                answer = (_fail, exc)
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
                loop.call_soon_threadsafe(answer[0], future, answer[1])


_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # its caller may have been cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _begin_without_waiting(driver: sqlite3.Connection) -> None:
    # The writer's connection has busy_timeout 0 (store/database.py): SQLite never sleeps
    # on it, so this fails at once if another connection holds the write lock.
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if driver.in_transaction:  # not a lock conflict after all
            driver.execute("ROLLBACK")
        raise WouldWait(str(exc)) from exc


NEVER_WAIT = "kabar.never_wait"
"""Set in a connection's ``info`` while a :meth:`ThreadedConnection.here` block runs its
statements on the event loop, which must not sleep on a lock: the engine's ``begin``
listener (``store/database.py``) then calls :func:`begin_immediate` with ``wait=False``."""


def begin_immediate(driver: sqlite3.Connection, *, wait: bool = True) -> None:
    """``BEGIN IMMEDIATE`` on a connection with busy_timeout 0, waiting up to
    :data:`BUSY_TIMEOUT_MS` for another connection's write lock — on the calling thread,
    so only on a thread that may block (the writer's, or an offline tool's). With
    ``wait=False`` it raises :class:`WouldWait` at once instead."""
    if not wait:
        _begin_without_waiting(driver)
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            driver.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


def _commit_or_roll_back(driver: sqlite3.Connection) -> None:
    try:
        driver.execute("COMMIT")
    except BaseException:
        # SQLite may have rolled back already; either way nothing of it stays.
        with contextlib.suppress(sqlite3.Error):
            driver.execute("ROLLBACK")
        raise


class ThreadedConnection:
    """One sync ``Connection`` living on one dedicated thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._thread = _Thread("kabar-sqlite-writer")
        self._conn: Connection | None = None
        self._here = False
        self.commit_seconds = 0.0
        """The running average of the write transactions' COMMITs (seconds), wherever they
        ran."""

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._here:
            return fn(*args)
        return await self._thread.call(fn, *args)

    @property
    def commits_quickly(self) -> bool:
        """Whether recent COMMITs averaged under :data:`QUICK_COMMIT_SECONDS`."""
        return self.commit_seconds < QUICK_COMMIT_SECONDS

    @asynccontextmanager
    async def here(self) -> AsyncIterator[None]:
        """Within: every call runs on the calling thread, and a transaction's BEGIN raises
        :class:`WouldWait`, having run nothing, where it would wait for another
        connection's write lock (the caller then runs its work again outside). For one
        caller at a time (the writer runs one batch at a time); callers check
        :attr:`commits_quickly` first, since the COMMIT runs here too."""
        self._here = True
        self.connection.info[NEVER_WAIT] = True
        try:
            yield
        finally:
            self._here = False
            self.connection.info.pop(NEVER_WAIT, None)

    async def connect(self) -> ThreadedConnection:
        def open_connection() -> None:
            self._conn = self._engine.connect()

        await self._call(open_connection)
        return self

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "not connected"
        return self._conn

    @property
    def closed(self) -> bool:
        return self._conn is None or self._conn.closed

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        def run() -> Result[Any] | _NoRows:
            result = self.connection.execute(statement, parameters)
            if result.returns_rows:
                return result.freeze()()
            # Rows never cross threads; a statement without rows only reports its count.
            return _NoRows(result.rowcount)

        # A buffered Result answers everything callers ask of a CursorResult here
        # (rows, scalars, first, all; rowcount for the rest).
        return cast(CursorResult[Any], await self._call(run))

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(fn, self.connection, *args)

    async def run_here(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` in a write transaction on this thread and commit it.

        The transaction is the driver's own (``BEGIN IMMEDIATE`` … ``COMMIT``), so ``fn``
        must use the driver connection, not SQLAlchemy's (``store/batch.py`` does). The
        COMMIT runs here while recent commits were quick, else on the connection's thread
        (module docstring). Raises :class:`WouldWait`, having run nothing, when another
        connection holds the write lock. Callers must not overlap calls on this
        connection (the writer runs one batch at a time).
        """
        driver = self.connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        _begin_without_waiting(driver)
        try:
            result = fn(self.connection, *args)
        except BaseException:
            driver.execute("ROLLBACK")
            raise
        if self.commits_quickly:
            self._timed(_commit_or_roll_back, driver)
        else:
            await self._call(self._timed, _commit_or_roll_back, driver)
        return result

    def _timed(self, commit: Callable[..., None], *args: Any) -> None:
        """Run ``commit(*args)``, adding its time to :attr:`commit_seconds`."""
        started = time.perf_counter()
        try:
            commit(*args)
        finally:
            took = time.perf_counter() - started
            self.commit_seconds += _COMMIT_SMOOTHING * (took - self.commit_seconds)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[ThreadedConnection]:
        transaction = await self._call(lambda: self.connection.begin())
        try:
            yield self
        except BaseException:
            await self._call(transaction.rollback)
            raise
        await self._call(self._timed, transaction.commit)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[ThreadedConnection]:
        savepoint = await self._call(lambda: self.connection.begin_nested())
        try:
            yield self
        except BaseException:
            await self._call(savepoint.rollback)
            raise
        await self._call(savepoint.commit)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._call(conn.close)
        self._thread.stop()
