"""A synchronous SQLAlchemy connection confined to one thread, driven from asyncio.

SQLite's writer uses this instead of the aiosqlite engine: a whole group-commit
batch can then run as *one* call into the writer thread (``run_sync``), where
the async engine pays a thread hop and a greenlet switch per statement (about
0.15 ms each on this class of machine — more than the statements themselves).
Code that needs the async style still works: ``execute`` hops once per
statement and returns a fully buffered result.

It offers the subset of ``AsyncConnection`` the writer and offline tools use
(``execute``, ``run_sync``, ``begin``, ``begin_nested``, ``close``), so
``Executor`` (what every query function takes) accepts either.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
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


class ThreadedConnection:
    """One sync ``Connection`` living on one dedicated thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._thread = _Thread("kabar-sqlite-writer")
        self._conn: Connection | None = None

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._thread.call(fn, *args)

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

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[ThreadedConnection]:
        transaction = await self._call(lambda: self.connection.begin())
        try:
            yield self
        except BaseException:
            await self._call(transaction.rollback)
            raise
        await self._call(transaction.commit)

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
