"""SQLAlchemy's aiosqlite dialect, with one trip to the connection's thread per statement.

aiosqlite runs each SQLite connection on a thread of its own; every call is a trip there
and back (a queue, a thread wake-up, a future resolved on the event loop). SQLAlchemy's
adapter makes four trips per statement — open a cursor, execute, fetch the rows, close
the cursor — and three for a BEGIN, so a short read transaction (BEGIN, a SELECT, COMMIT)
took eight, and a sync page's sixteen. Each trip's answer also waits for the GIL while
the loop is busy: under load the trips, not SQLite, were most of a read's time.

:class:`OneHopCursor` does the same work in one trip: on aiosqlite's thread it executes
the statement, reads its description, row count, last row id and every row, and closes
the cursor; SQLAlchemy then reads the rows from memory, as it already did (its adapter
fetched them all at execute time too). Nothing else changes: the same aiosqlite
connection and thread, the same transactions, the same errors. Server-side cursors
(streamed results), which kabar does not use, keep SQLAlchemy's own cursor.

The dialect is registered as ``sqlite+kabar_aiosqlite``; :func:`one_hop_url` turns a
``sqlite+aiosqlite`` URL into it, so configuration keeps naming aiosqlite.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "kabar_aiosqlite"
_Outcome = tuple[Any, list[Any], int, Any]  # description, rows, rowcount, lastrowid


def _on_thread(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> _Outcome:
    """On aiosqlite's thread: the whole of one statement, its cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose every statement is one trip to the connection's thread."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # Not the parent's __init__: it opens an aiosqlite cursor (a trip) up front.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None
        self._arraysize = 1  # DB-API's default: fetchmany() without a size

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        try:
            await_(self._one_trip(operation, parameters, many=many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _one_trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            # aiosqlite's own queue to its thread (what each of its methods uses).
            outcome: _Outcome = await self._connection._execute(
                _on_thread, self._connection._conn, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        return  # the cursor was closed on the thread already

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls: type[AsyncAdapt_aiosqlite_cursor] = OneHopCursor


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        # The parent opens the aiosqlite connection; its adapter, dropped here, holds
        # nothing else (the connection and a lock, which the new adapter makes afresh).
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


class OneHopDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> OneHopDbapi:
        return OneHopDbapi(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneHopDialect")


def one_hop_url(url: str) -> str:
    """``sqlite+aiosqlite://…`` served through this module's dialect."""
    return url.replace("sqlite+aiosqlite://", f"sqlite+{DRIVER}://", 1)
