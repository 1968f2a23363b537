"""Schema migrations: ``kabar db upgrade`` and the checks ``kabar serve`` makes at start.

Alembic drives the versions in ``kabar/store/migrations``; this module builds
its configuration in code (no alembic.ini to lose) and runs it over kabar's own
async engine, so the same code path migrates SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from kabar.store.database import Database


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", "kabar.store:migrations")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent)."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with database.write() as conn:
        await conn.run_sync(run)


async def downgrade(database: Database, revision: str) -> None:
    """Take the schema back to ``revision`` (operators: restoring an older release)."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with database.write() as conn:
        await conn.run_sync(run)


async def current_revision(database: Database) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.write() as conn:
        return await conn.run_sync(read)


async def is_current(database: Database) -> bool:
    return await current_revision(database) == head_revision()
