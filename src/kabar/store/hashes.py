"""Queries for imported hash lists, their entries, and the matches of public uploads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update

from kabar.store.rows import Record
from kabar.store.schema_transparency import hash_entries, hash_lists, upload_matches
from kabar.store.threaded import Executor

# Bound parameters per IN list (SQLite caps their number per statement).
CHUNK = 400


async def lists(conn: Executor) -> list[Record]:
    return list(await conn.execute(select(hash_lists).order_by(hash_lists.c.name)))


async def lists_named(conn: Executor, names: Sequence[str]) -> list[Record]:
    result = await conn.execute(select(hash_lists).where(hash_lists.c.name.in_(list(names))))
    return list(result)


async def insert_list(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(hash_lists).values(**values))


async def add_to_list(conn: Executor, list_id: str, added: int, now_ms: int) -> None:
    await conn.execute(
        update(hash_lists)
        .where(hash_lists.c.id == list_id)
        .values(entries=hash_lists.c.entries + added, updated_at=now_ms)
    )


async def existing_values(
    conn: Executor, list_id: str, hash_type: str, values: Sequence[str]
) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(values), CHUNK):
        result = await conn.execute(
            select(hash_entries.c.value).where(
                hash_entries.c.list_id == list_id,
                hash_entries.c.type == hash_type,
                hash_entries.c.value.in_(values[i : i + CHUNK]),
            )
        )
        found.update(r.value for r in result)
    return found


async def insert_entries(conn: Executor, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(hash_entries), rows)


async def version(conn: Executor) -> tuple[int, int, int]:
    """Changes whenever an import adds entries or a list is made: (lists, entries, last change)."""
    row = (
        await conn.execute(
            select(
                func.count().label("lists"),
                func.coalesce(func.sum(hash_lists.c.entries), 0).label("entries"),
                func.coalesce(func.max(hash_lists.c.updated_at), 0).label("changed"),
            ).where(hash_lists.c.enabled)
        )
    ).one()
    return int(row.lists), int(row.entries), int(row.changed)


async def enabled_entries(conn: Executor) -> list[Record]:
    """Every entry of an enabled list, with the list's id and name."""
    result = await conn.execute(
        select(
            hash_entries.c.type,
            hash_entries.c.value,
            hash_entries.c.action,
            hash_lists.c.id.label("list_id"),
            hash_lists.c.name.label("list_name"),
        )
        .join(hash_lists, hash_lists.c.id == hash_entries.c.list_id)
        .where(hash_lists.c.enabled)
    )
    return list(result)


async def insert_matches(conn: Executor, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(upload_matches), rows)


async def matches_of_media(conn: Executor, media_id: str) -> list[Record]:
    result = await conn.execute(
        select(upload_matches)
        .where(upload_matches.c.media_id == media_id)
        .order_by(upload_matches.c.created_at, upload_matches.c.id)
    )
    return list(result)
