"""Queries over encrypted attachment blobs: their owners, sizes and per-account usage."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select

from kabar.store.rows import Record
from kabar.store.schema import blobs
from kabar.store.threaded import Executor


async def usage(conn: Executor, account_id: str) -> int:
    """Bytes of blobs the account has uploaded and not deleted."""
    result = await conn.execute(
        select(func.coalesce(func.sum(blobs.c.size), 0)).where(blobs.c.account_id == account_id)
    )
    return int(result.scalar_one())


async def insert_blob(conn: Executor, blob_id: str, account_id: str, size: int, now: int) -> None:
    await conn.execute(
        insert(blobs).values(id=blob_id, account_id=account_id, size=size, created_at=now)
    )


async def blob(conn: Executor, blob_id: str) -> Record | None:
    return (await conn.execute(select(blobs).where(blobs.c.id == blob_id))).first()


async def delete_blob(conn: Executor, blob_id: str) -> None:
    await conn.execute(delete(blobs).where(blobs.c.id == blob_id))
