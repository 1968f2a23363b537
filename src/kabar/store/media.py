"""Queries over uploaded media (the files themselves live in kabar.media.storage)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, or_, select

from kabar.store.rows import Record
from kabar.store.schema import media
from kabar.store.threaded import Executor


async def insert_media(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(media).values(**values))


async def by_id(conn: Executor, media_id: str) -> Record | None:
    return (await conn.execute(select(media).where(media.c.id == media_id))).first()


async def removed(conn: Executor, name: str) -> bool:
    """Whether the file ``name`` (an image or one of its variants) belongs to removed media."""
    query = select(media.c.id).where(
        media.c.removed_at.is_not(None),
        or_(media.c.name == name, media.c.variants.contains(f'"/media/{name}"')),
    )
    return (await conn.execute(query.limit(1))).first() is not None


async def bytes_used(conn: Executor, account_id: str) -> int:
    result = await conn.execute(
        select(func.coalesce(func.sum(media.c.bytes), 0)).where(media.c.account_id == account_id)
    )
    return int(result.scalar_one())
