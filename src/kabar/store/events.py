"""Queries over the event stream: positions, events, to-device messages, sequence numbers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

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
from kabar.store.threaded import Executor

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


# Statements of the writer's generic (SAVEPOINT) path, built once.


def position_query(*, lock: bool = False) -> Select[Any]:
    query = select(stream_position.c.pos).where(stream_position.c.id == 1)
    return query.with_for_update() if lock else query


WRITE_POSITION = (
    update(stream_position).where(stream_position.c.id == 1).values(pos=bindparam("pos"))
)
SAVE_LAST_SEQ = (
    update(conversations)
    .where(conversations.c.id == bindparam("cid"))
    .values(last_seq=bindparam("seq"))
)
INSERT_EVENTS = insert(events)


def last_seqs_query(ids: list[str]) -> Select[Any]:
    return select(conversations.c.id, conversations.c.last_seq).where(conversations.c.id.in_(ids))


_READ_POSITION = {lock: position_query(lock=lock) for lock in (False, True)}


async def read_position(conn: Executor, *, lock: bool = False) -> int:
    """The last committed stream position; ``lock`` serialises writers (PostgreSQL)."""
    return int((await conn.execute(_READ_POSITION[lock])).scalar_one())


async def write_position(conn: Executor, pos: int) -> None:
    await conn.execute(WRITE_POSITION, {"pos": pos})


async def insert_events(conn: Executor, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(INSERT_EVENTS, list(rows))


async def insert_to_device(conn: Executor, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(to_device), list(rows))


async def load_last_seqs(conn: Executor, conversation_ids: Iterable[str]) -> dict[str, int]:
    ids = list(conversation_ids)
    if not ids:
        return {}
    result = await conn.execute(last_seqs_query(ids))
    return {row.id: int(row.last_seq) for row in result}


async def save_last_seqs(conn: Executor, seqs: dict[str, int]) -> None:
    if seqs:
        await conn.execute(SAVE_LAST_SEQ, [{"cid": cid, "seq": seq} for cid, seq in seqs.items()])


# A to-device request's statements, built once: building a statement and its cache key
# cost more than running it (a third of such a write's server CPU went to SQLAlchemy).
PENDING_TO_DEVICE = (
    select(to_device.c.device_id, func.count().label("n"))
    .where(to_device.c.device_id.in_(bindparam("device_ids", expanding=True)))
    .group_by(to_device.c.device_id)
)
TO_DEVICE_TXN = select(to_device_txns.c.pos).where(
    to_device_txns.c.sender_device == bindparam("device_id"),
    to_device_txns.c.txn_id == bindparam("txn_id"),
)
RECORD_TO_DEVICE_TXN = insert(to_device_txns)


async def pending_to_device(conn: Executor, device_ids: list[str]) -> dict[str, int]:
    """Undelivered to-device messages per device (devices with none are absent)."""
    if not device_ids:
        return {}
    result = await conn.execute(PENDING_TO_DEVICE, {"device_ids": device_ids})
    return {row.device_id: int(row.n) for row in result}


async def to_device_txn(conn: Executor, device_id: str, txn_id: str) -> int | None:
    result = await conn.execute(TO_DEVICE_TXN, {"device_id": device_id, "txn_id": txn_id})
    pos = result.scalar_one_or_none()
    return None if pos is None else int(pos)


async def record_to_device_txn(
    conn: Executor, device_id: str, txn_id: str, pos: int, now: int
) -> None:
    row = {"sender_device": device_id, "txn_id": txn_id, "pos": pos, "created_at": now}
    await conn.execute(RECORD_TO_DEVICE_TXN, row)


# The reads of a sync, a stream's catch-up and history, built once with bind parameters:
# building such a statement and its cache key cost more than SQLite takes to run it (a
# stream reconnect spent a fifth of its server CPU in SQLAlchemy's statement building).
_ACCOUNT = bindparam("account_id", type_=String)
_AFTER = bindparam("after", type_=BigInteger)
_UPTO = bindparam("upto", type_=BigInteger)
_LIMIT = bindparam("limit", type_=Integer)


def _visible_to(account_id: Any) -> Any:
    """Conversation events inside one of the account's membership periods."""
    period = membership_periods
    return exists().where(
        period.c.conversation_id == events.c.conversation_id,
        period.c.account_id == account_id,
        events.c.pos >= period.c.joined_pos,
        or_(period.c.left_pos.is_(None), events.c.pos <= period.c.left_pos),
    )


def _following(account_id: Any) -> Any:
    """Feed events inside one of the account's follow periods."""
    period = feed_periods
    return exists().where(
        period.c.feed_id == events.c.feed_id,
        period.c.account_id == account_id,
        events.c.pos >= period.c.from_pos,
        or_(period.c.to_pos.is_(None), events.c.pos <= period.c.to_pos),
    )


ACCOUNT_EVENTS = (
    select(*EVENT_COLUMNS)
    .where(
        events.c.pos > _AFTER,
        events.c.pos <= _UPTO,
        or_(
            and_(events.c.conversation_id.is_not(None), _visible_to(_ACCOUNT)),
            events.c.target_account == _ACCOUNT,
            and_(events.c.feed_id.is_not(None), _following(_ACCOUNT)),
        ),
    )
    .order_by(events.c.pos)
    .limit(_LIMIT)
)
DEVICE_MESSAGES = (
    select(*TO_DEVICE_COLUMNS)
    .where(
        to_device.c.device_id == bindparam("device_id"),
        to_device.c.pos > _AFTER,
        to_device.c.pos <= _UPTO,
    )
    .order_by(to_device.c.pos)
    .limit(_LIMIT)
)
EVENTS_IN_RANGE = (
    select(*EVENT_COLUMNS)
    .where(events.c.pos > _AFTER, events.c.pos <= _UPTO)
    .order_by(events.c.pos)
)
TO_DEVICE_IN_RANGE = (
    select(*TO_DEVICE_COLUMNS)
    .where(to_device.c.pos > _AFTER, to_device.c.pos <= _UPTO)
    .order_by(to_device.c.pos)
)
_HISTORY = select(*EVENT_COLUMNS).where(
    events.c.conversation_id == bindparam("conversation_id"), _visible_to(_ACCOUNT)
)
HISTORY = {  # by whether the page starts before a given seq
    False: _HISTORY.order_by(events.c.seq.desc()).limit(_LIMIT),
    True: _HISTORY.where(events.c.seq < bindparam("before_seq"))
    .order_by(events.c.seq.desc())
    .limit(_LIMIT),
}
EVENT_AT = select(*EVENT_COLUMNS).where(events.c.pos == bindparam("pos"))


async def account_events(
    conn: Executor, account_id: str, after: int, upto: int, limit: int
) -> list[Record]:
    """Events visible to ``account_id`` with ``after < pos <= upto``, oldest first."""
    params = {"account_id": account_id, "after": after, "upto": upto, "limit": limit}
    return list(await conn.execute(ACCOUNT_EVENTS, params))


async def device_messages(
    conn: Executor, device_id: str, after: int, upto: int, limit: int
) -> list[Record]:
    params = {"device_id": device_id, "after": after, "upto": upto, "limit": limit}
    return list(await conn.execute(DEVICE_MESSAGES, params))


async def events_in_range(conn: Executor, after: int, upto: int) -> list[Record]:
    return list(await conn.execute(EVENTS_IN_RANGE, {"after": after, "upto": upto}))


async def to_device_in_range(conn: Executor, after: int, upto: int) -> list[Record]:
    return list(await conn.execute(TO_DEVICE_IN_RANGE, {"after": after, "upto": upto}))


DELETE_DELIVERED = delete(to_device).where(
    to_device.c.device_id == bindparam("device"), to_device.c.pos <= bindparam("upto")
)


async def delete_delivered_to_device(conn: Executor, acknowledged: dict[str, int]) -> None:
    """Drop what each device has acknowledged: one statement, executed for many devices."""
    if acknowledged:
        params = [{"device": device, "upto": upto} for device, upto in acknowledged.items()]
        await conn.execute(DELETE_DELIVERED, params)


async def conversation_history(
    conn: Executor,
    conversation_id: str,
    account_id: str,
    before_seq: int | None,
    limit: int,
) -> list[Record]:
    """Up to ``limit`` events before ``before_seq`` that the account may see, newest first."""
    params: dict[str, Any] = {
        "conversation_id": conversation_id,
        "account_id": account_id,
        "limit": limit,
    }
    if before_seq is not None:
        params["before_seq"] = before_seq
    return list(await conn.execute(HISTORY[before_seq is not None], params))


async def replace_content(conn: Executor, pos: int, content_json: str) -> None:
    await conn.execute(update(events).where(events.c.pos == pos).values(content=content_json))


async def event_at(conn: Executor, pos: int) -> Record | None:
    return (await conn.execute(EVENT_AT, {"pos": pos})).first()


async def feed_events(conn: Executor, feed_id: str, type_: str) -> list[Record]:
    """The position and stored content of every ``type_`` event on one feed channel."""
    query = (
        select(events.c.pos, events.c.content)
        .where(events.c.feed_id == feed_id, events.c.type == type_)
        .order_by(events.c.pos)
    )
    return list(await conn.execute(query))
