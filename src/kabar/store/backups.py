"""Queries over key backups: versions per account and one opaque blob per Megolm session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update

from kabar.store.rows import Record
from kabar.store.schema import backup_sessions, backup_versions
from kabar.store.threaded import Executor


async def current_version(conn: Executor, account_id: str) -> Record | None:
    result = await conn.execute(
        select(backup_versions)
        .where(backup_versions.c.account_id == account_id)
        .order_by(backup_versions.c.version.desc())
        .limit(1)
    )
    return result.first()


async def insert_version(
    conn: Executor, account_id: str, version: int, data: str, now: int
) -> None:
    await conn.execute(
        insert(backup_versions).values(
            account_id=account_id, version=version, data=data, created_at=now
        )
    )


async def delete_versions_below(conn: Executor, account_id: str, version: int) -> None:
    """Forget the account's older versions and their sessions."""
    for table in (backup_sessions, backup_versions):
        await conn.execute(
            delete(table).where(table.c.account_id == account_id, table.c.version < version)
        )


async def count_sessions(conn: Executor, account_id: str, version: int) -> int:
    result = await conn.execute(
        select(func.count())
        .select_from(backup_sessions)
        .where(backup_sessions.c.account_id == account_id, backup_sessions.c.version == version)
    )
    return int(result.scalar_one())


async def first_indexes(
    conn: Executor, account_id: str, version: int, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    if not keys:
        return {}
    result = await conn.execute(
        select(
            backup_sessions.c.conversation_id,
            backup_sessions.c.session_id,
            backup_sessions.c.first_known_index,
        ).where(
            backup_sessions.c.account_id == account_id,
            backup_sessions.c.version == version,
            tuple_(backup_sessions.c.conversation_id, backup_sessions.c.session_id).in_(keys),
        )
    )
    return {(r.conversation_id, r.session_id): int(r.first_known_index) for r in result}


async def insert_sessions(conn: Executor, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(backup_sessions), rows)


async def replace_session(conn: Executor, row: dict[str, Any]) -> None:
    await conn.execute(
        update(backup_sessions)
        .where(
            backup_sessions.c.account_id == row["account_id"],
            backup_sessions.c.version == row["version"],
            backup_sessions.c.conversation_id == row["conversation_id"],
            backup_sessions.c.session_id == row["session_id"],
        )
        .values(
            first_known_index=row["first_known_index"],
            data=row["data"],
            updated_at=row["updated_at"],
        )
    )


async def sessions_page(
    conn: Executor,
    account_id: str,
    version: int,
    after: tuple[str, str] | None,
    limit: int,
    conversation_id: str | None = None,
) -> list[Record]:
    conditions = [backup_sessions.c.account_id == account_id, backup_sessions.c.version == version]
    key = tuple_(backup_sessions.c.conversation_id, backup_sessions.c.session_id)
    if after is not None:
        conditions.append(key > tuple_(*after))
    if conversation_id is not None:
        conditions.append(backup_sessions.c.conversation_id == conversation_id)
    query = (
        select(backup_sessions)
        .where(*conditions)
        .order_by(backup_sessions.c.conversation_id, backup_sessions.c.session_id)
        .limit(limit)
    )
    return list(await conn.execute(query))


async def session(
    conn: Executor, account_id: str, version: int, conversation_id: str, session_id: str
) -> Record | None:
    result = await conn.execute(
        select(backup_sessions).where(
            backup_sessions.c.account_id == account_id,
            backup_sessions.c.version == version,
            backup_sessions.c.conversation_id == conversation_id,
            backup_sessions.c.session_id == session_id,
        )
    )
    return result.first()
