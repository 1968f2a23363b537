"""Alembic migrations create exactly the schema the code declares, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from kabar.config import DatabaseConfig
from kabar.store import migrate
from kabar.store.database import Database
from kabar.store.schema import metadata
from kabar.store.search import is_declared


async def test_migrations_match_the_declared_schema(database_url: str) -> None:
    database = Database(DatabaseConfig(url=database_url))
    try:
        await migrate.upgrade(database)  # already at head: must be a no-op
        assert await migrate.is_current(database)

        def diff(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": is_declared}
            )
            return list(compare_metadata(context, metadata))

        async with database.write() as conn:
            differences = await conn.run_sync(diff)
        assert differences == []
    finally:
        await database.dispose()


async def test_the_stream_starts_at_position_zero(database_url: str) -> None:
    from kabar.store.events import read_position

    database = Database(DatabaseConfig(url=database_url))
    try:
        async with database.read() as conn:
            assert await read_position(conn) == 0
    finally:
        await database.dispose()
