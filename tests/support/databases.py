"""Fresh databases for tests, cloned from a migrated template (fast: no migration per test).

SQLite: the template file is copied. PostgreSQL (only when ``KABAR_TEST_POSTGRES_URL``
is set): ``CREATE DATABASE … TEMPLATE …`` on the server, dropped after the test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from kabar.config import DatabaseConfig
from kabar.store import migrate
from kabar.store.database import Database

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
    def __init__(self, admin_url: str) -> None:
        self._admin = _asyncpg_dsn(admin_url)
        self._template = f"kabar_tmpl_{uuid.uuid4().hex[:10]}"
        self._ready = False
        self._lock = asyncio.Lock()

    async def _execute(self, sql: str) -> None:
        conn = await asyncpg.connect(self._admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _ensure_template(self) -> None:
        async with self._lock:
            if self._ready:
                return
            await self._execute(f'CREATE DATABASE "{self._template}"')
            await _migrate(_with_database(POSTGRES_URL or "", self._template))
            self._ready = True

    @asynccontextmanager
    async def fresh(self) -> AsyncIterator[str]:
        await self._ensure_template()
        name = f"kabar_t_{uuid.uuid4().hex[:12]}"
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        try:
            yield _with_database(POSTGRES_URL or "", name)
        finally:
            await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def drop_template(self) -> None:
        if self._ready:
            await self._execute(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')


_shared: PostgresTemplates | None = None


def shared_postgres_templates(*, create: bool = True) -> PostgresTemplates | None:
    """One set of templates per test session (None without KABAR_TEST_POSTGRES_URL)."""
    global _shared
    if _shared is None and create and POSTGRES_URL is not None:
        _shared = PostgresTemplates(POSTGRES_URL)
    return _shared
