"""Migrations create exactly the schema the code declares, on SQLite and PostgreSQL."""

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


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "target_metadata": metadata, "include_name": is_declared},
    )
    return list(compare_metadata(context, metadata))


async def _diff(database: Database) -> list[Any]:
    async with database.write() as conn:
        return await conn.run_sync(_differences)


async def test_migrated_schema_equals_the_declared_metadata(database_url: str) -> None:
    database = Database(DatabaseConfig(url=database_url))
    try:
        await migrate.upgrade(database)  # already at head: must be a no-op
        assert await migrate.is_current(database)
        assert await _diff(database) == []
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


async def test_every_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    database = Database(DatabaseConfig(url=database_url))
    try:
        await migrate.downgrade(database, "0001")
        assert await migrate.current_revision(database) == "0001"
        differences = await _diff(database)
        added = {d[1].name for d in differences if d[0] == "add_table"}
        assert {"blobs", "backup_versions", "backup_sessions", "message_reports"} <= added
        assert {"public_accounts", "articles", "subscriptions"} <= added
        assert {"transparency_leaves", "authority_requests", "hash_entries"} <= added
        await migrate.upgrade(database)
        assert await _diff(database) == []
    finally:
        await database.dispose()


def test_revisions_form_one_line_ending_at_the_head() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert scripts.get_heads() == ["0005"]
    assert [s.revision for s in scripts.walk_revisions()] == [
        "0005",
        "0004",
        "0003",
        "0002",
        "0001",
    ]
