"""Queries over the event stream: positions, events, to-device messages, sequence numbers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kabar.store.rows import Record
from kabar.store.schema import (
    conversations,
    events,
    feed_periods,
    membership_periods,
    stream_position,
    to_device,
    to_device_txns,
)

EVENT_COLUMNS = (
    events.c.pos,
    events.c.type,
    events.c.conversation_id,
    events.c.seq,
    events.c.target_account,
    events.c.feed_id,
    events.c.sender_account,
    events.c.sender_device,
    events.c.txn_id,
    events.c.created_at,
    events.c.content,
    events.c.franking_tag,
)
TO_DEVICE_COLUMNS = (
    to_device.c.pos,
    to_device.c.device_id,
    to_device.c.type,
    to_device.c.sender_account,
    to_device.c.sender_device,
    to_device.c.created_at,
    to_device.c.content,
)


async def read_position(conn: AsyncConnection, *, lock: bool = False) -> int:
    """The last committed stream position; ``lock`` serialises writers (PostgreSQL)."""
    query = select(stream_position.c.pos).where(stream_position.c.id == 1)
    if lock:
        query = query.with_for_update()
    return int((await conn.execute(query)).scalar_one())


async def write_position(conn: AsyncConnection, pos: int) -> None:
    await conn.execute(update(stream_position).where(stream_position.c.id == 1).values(pos=pos))


async def insert_events(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(events), list(rows))


async def insert_to_device(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(to_device), list(rows))


async def load_last_seqs(conn: AsyncConnection, conversation_ids: Iterable[str]) -> dict[str, int]:
    ids = list(conversation_ids)
    if not ids:
        return {}
    result = await conn.execute(
        select(conversations.c.id, conversations.c.last_seq).where(conversations.c.id.in_(ids))
    )
    return {row.id: int(row.last_seq) for row in result}


async def save_last_seqs(conn: AsyncConnection, seqs: dict[str, int]) -> None:
    if not seqs:
        return
    stmt = (
        update(conversations)
        .where(conversations.c.id == bindparam("cid"))
        .values(last_seq=bindparam("seq"))
    )
    await conn.execute(stmt, [{"cid": cid, "seq": seq} for cid, seq in seqs.items()])


async def events_by_txn(
    conn: AsyncConnection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Record]:
    pairs = list(keys)
    if not pairs:
        return {}
    result = await conn.execute(
        select(*EVENT_COLUMNS).where(
            tuple_(events.c.sender_device, events.c.txn_id).in_(pairs),
            events.c.txn_id.is_not(None),
        )
    )
    return {(row.sender_device, row.txn_id): row for row in result}


async def to_device_txn(conn: AsyncConnection, device_id: str, txn_id: str) -> int | None:
    result = await conn.execute(
        select(to_device_txns.c.pos).where(
            to_device_txns.c.sender_device == device_id, to_device_txns.c.txn_id == txn_id
        )
    )
    pos = result.scalar_one_or_none()
    return None if pos is None else int(pos)


async def record_to_device_txn(
    conn: AsyncConnection, device_id: str, txn_id: str, pos: int, now: int
) -> None:
    await conn.execute(
        insert(to_device_txns).values(
            sender_device=device_id, txn_id=txn_id, pos=pos, created_at=now
        )
    )


def _visible_to(account_id: str) -> Any:
    """Conversation events inside one of the account's membership periods."""
    period = membership_periods
    return exists().where(
        period.c.conversation_id == events.c.conversation_id,
        period.c.account_id == account_id,
        events.c.pos >= period.c.joined_pos,
        or_(period.c.left_pos.is_(None), events.c.pos <= period.c.left_pos),
    )


def _following(account_id: str) -> Any:
    """Feed events inside one of the account's follow periods."""
    period = feed_periods
    return exists().where(
        period.c.feed_id == events.c.feed_id,
        period.c.account_id == account_id,
        events.c.pos >= period.c.from_pos,
        or_(period.c.to_pos.is_(None), events.c.pos <= period.c.to_pos),
    )


async def account_events(
    conn: AsyncConnection, account_id: str, after: int, upto: int, limit: int
) -> list[Record]:
    """Events visible to ``account_id`` with ``after < pos <= upto``, oldest first."""
    query = (
        select(*EVENT_COLUMNS)
        .where(
            events.c.pos > after,
            events.c.pos <= upto,
            or_(
                and_(events.c.conversation_id.is_not(None), _visible_to(account_id)),
                events.c.target_account == account_id,
                and_(events.c.feed_id.is_not(None), _following(account_id)),
            ),
        )
        .order_by(events.c.pos)
        .limit(limit)
    )
    return list(await conn.execute(query))


async def device_messages(
    conn: AsyncConnection, device_id: str, after: int, upto: int, limit: int
) -> list[Record]:
    query = (
        select(*TO_DEVICE_COLUMNS)
        .where(to_device.c.device_id == device_id, to_device.c.pos > after, to_device.c.pos <= upto)
        .order_by(to_device.c.pos)
        .limit(limit)
    )
    return list(await conn.execute(query))


async def events_in_range(conn: AsyncConnection, after: int, upto: int) -> list[Record]:
    query = (
        select(*EVENT_COLUMNS)
        .where(events.c.pos > after, events.c.pos <= upto)
        .order_by(events.c.pos)
    )
    return list(await conn.execute(query))


async def to_device_in_range(conn: AsyncConnection, after: int, upto: int) -> list[Record]:
    query = (
        select(*TO_DEVICE_COLUMNS)
        .where(to_device.c.pos > after, to_device.c.pos <= upto)
        .order_by(to_device.c.pos)
    )
    return list(await conn.execute(query))


async def delete_delivered_to_device(conn: AsyncConnection, device_id: str, upto: int) -> int:
    result = await conn.execute(
        delete(to_device).where(to_device.c.device_id == device_id, to_device.c.pos <= upto)
    )
    return int(result.rowcount or 0)


async def conversation_history(
    conn: AsyncConnection,
    conversation_id: str,
    account_id: str,
    before_seq: int | None,
    limit: int,
) -> list[Record]:
    """Up to ``limit`` events before ``before_seq`` that the account may see, newest first."""
    conditions = [events.c.conversation_id == conversation_id, _visible_to(account_id)]
    if before_seq is not None:
        conditions.append(events.c.seq < before_seq)
    query = select(*EVENT_COLUMNS).where(*conditions).order_by(events.c.seq.desc()).limit(limit)
    return list(await conn.execute(query))


async def event_at(conn: AsyncConnection, pos: int) -> Record | None:
    result = await conn.execute(select(*EVENT_COLUMNS).where(events.c.pos == pos))
    return result.first()
