"""Queries for the authority-requests register."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from kabar.store.rows import Record
from kabar.store.schema_transparency import authority_requests as requests
from kabar.store.threaded import Executor


async def insert_request(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(requests).values(**values))


async def request_by_id(conn: Executor, request_id: str) -> Record | None:
    return (await conn.execute(select(requests).where(requests.c.id == request_id))).first()


async def list_requests(conn: Executor, status: str | None, limit: int) -> list[Record]:
    """Newest received first."""
    query = select(requests).order_by(requests.c.received_at.desc(), requests.c.id).limit(limit)
    if status is not None:
        query = query.where(requests.c.status == status)
    return list(await conn.execute(query))


async def update_request(conn: Executor, request_id: str, **values: Any) -> None:
    await conn.execute(update(requests).where(requests.c.id == request_id).values(**values))


async def due_ids(conn: Executor, now_ms: int) -> list[str]:
    """Decided requests whose publication time has come but are not in the log yet."""
    result = await conn.execute(
        select(requests.c.id)
        .where(
            requests.c.status == "decided",
            requests.c.publish_after <= now_ms,
            requests.c.log_seq.is_(None),
        )
        .order_by(requests.c.publish_after, requests.c.id)
    )
    return [r.id for r in result]
