"""Fresh databases for tests, cloned from a migrated template (fast: no migration per test).

SQLite: the template file is copied. PostgreSQL (only when ``KABAR_TEST_POSTGRES_URL``
is set): ``CREATE DATABASE … TEMPLATE …`` on the server, dropped after the test, both on
a background thread (see PostgresTemplates).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from kabar.config import DatabaseConfig
from kabar.store import migrate
from kabar.store.database import Database

T = TypeVar("T")

POSTGRES_URL = os.environ.get("KABAR_TEST_POSTGRES_URL")
SKIP_POSTGRES = (
    "PostgreSQL tests need KABAR_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"
)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _migrate(url: str) -> None:
    database = Database(DatabaseConfig(url=url))
    try:
        await migrate.upgrade(database)
    finally:
        await database.dispose()


class SqliteTemplates:
    def __init__(self, directory: Path) -> None:
        self._template = directory / "template.db"
        self._ready = False

    async def fresh(self, directory: Path) -> str:
        if not self._ready:
            await _migrate(f"sqlite:///{self._template}")
            self._ready = True
        target = directory / f"kabar-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self._template, target)
        return f"sqlite:///{target}"


class PostgresTemplates:
    """Fresh PostgreSQL databases, cloned and dropped on a thread of their own.

    ``CREATE DATABASE … TEMPLATE`` takes ~0.3 s (PostgreSQL copies and fsyncs ~9 MB of
    catalog) and ``DROP DATABASE`` more under load, which made up most of a PostgreSQL
    test's setup and teardown. So the next database is cloned while the current test runs,
    and a finished test's database is dropped behind it: each test still gets a database
    no other test has touched, without waiting for either statement.
    """

    def __init__(self, admin_url: str) -> None:
        self._admin = _asyncpg_dsn(admin_url)
        self._template = f"kabar_tmpl_{uuid.uuid4().hex[:10]}"
        self._ready = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        # Both used only on self._loop: one statement at a time, one migration.
        self._lock = asyncio.Lock()
        self._template_lock = asyncio.Lock()
        self._connection: asyncpg.Connection | None = None
        self._next: concurrent.futures.Future[str] | None = None
        self._drops: list[concurrent.futures.Future[None]] = []

    def _submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    async def _execute(self, sql: str) -> None:
        async with self._lock:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self._admin)
            await self._connection.execute(sql)

    async def _ensure_template(self) -> None:
        async with self._template_lock:
            if self._ready:
                return
            await self._execute(f'CREATE DATABASE "{self._template}"')
            await _migrate(_with_database(POSTGRES_URL or "", self._template))
            self._ready = True

    async def _clone(self) -> str:
        await self._ensure_template()
        name = f"kabar_t_{uuid.uuid4().hex[:12]}"
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return name

    async def _drop(self, name: str) -> None:
        await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[str]:
        ready, self._next = self._next or self._submit(self._clone()), None
        name = await asyncio.wrap_future(ready)
        self._next = self._submit(self._clone())
        try:
            yield _with_database(POSTGRES_URL or "", name)
        finally:
            self._drops.append(self._submit(self._drop(name)))

    def close(self) -> None:
        """Drop the spare clone and the template, after the pending drops; stop the thread."""

        async def finish() -> None:
            if self._next is not None:
                with contextlib.suppress(Exception):
                    await self._drop(await asyncio.wrap_future(self._next))
            for drop in self._drops:
                await asyncio.wrap_future(drop)
            if self._ready:
                await self._drop(self._template)
            if self._connection is not None:
                await self._connection.close()

        try:
            self._submit(finish()).result(120)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


_shared: PostgresTemplates | None = None


def shared_postgres_templates(*, create: bool = True) -> PostgresTemplates | None:
    """One set of templates per test session (None without KABAR_TEST_POSTGRES_URL)."""
    global _shared
    if _shared is None and create and POSTGRES_URL is not None:
        _shared = PostgresTemplates(POSTGRES_URL)
    return _shared
