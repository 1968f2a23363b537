"""Alembic environment: runs migrations on the connection kabar hands over.

``kabar.store.migrate`` opens the connection (async engine, either dialect) and
passes it in ``config.attributes["connection"]``; this file never reads a URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from kabar.store.schema import metadata
from kabar.store.search import is_declared


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=is_declared,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `kabar db upgrade`, not the alembic command")
run(connection)
