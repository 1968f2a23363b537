"""The write path's hot statements, as plain SQL run through the DB-API driver.

A run of message sends is checked and stored by a handful of set-based
statements. They run on every batch, so they skip SQLAlchemy's statement
construction and compilation (measured at ~100 µs a statement here, more than
SQLite needs to execute them): SQL written once below, portable between SQLite
and PostgreSQL, where only the placeholder style differs. On SQLite they go
straight to the driver's connection, inside the transaction SQLAlchemy began
(``exec_driver_sql`` still cost ~40 µs a SELECT against the driver's ~13); on
PostgreSQL through ``Connection.exec_driver_sql``. Everything else — and every
other query in kabar — uses SQLAlchemy Core. On SQLite the writer runs these on
the event loop's thread inside the driver's own transaction, the COMMIT on the
writer's thread (``ThreadedConnection.run_here``); on PostgreSQL through
``run_sync``, the same code driving asyncpg through SQLAlchemy's greenlet bridge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection

EVENT_FIELDS = (
    "pos",
    "type",
    "conversation_id",
    "seq",
    "target_account",
    "feed_id",
    "sender_account",
    "sender_device",
    "txn_id",
    "created_at",
    "content",
    "franking_tag",
)

_READ_POSITION = "SELECT pos FROM stream_position WHERE id = 1"
_WRITE_POSITION = "UPDATE stream_position SET pos = ? WHERE id = 1"
_SAVE_LAST_SEQ = "UPDATE conversations SET last_seq = ? WHERE id = ?"
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_FIELDS)}) VALUES ({', '.join('?' * len(EVENT_FIELDS))})"
)


def _values(rows: int) -> str:
    return ", ".join(["(?, ?)"] * rows)


# The wanted keys are a VALUES list joined to the table, not ``(a, b) IN (VALUES …)``:
# SQLite (3.40) answers a row-value IN by scanning the whole index, a cost that grew with
# every event and membership ever stored; as the outer side of a join each key is one
# index search. (VALUES columns are column1, column2 on both databases.)
@lru_cache(maxsize=256)
def _txn_sql(rows: int) -> str:
    return (
        f"SELECT {', '.join('e.' + field for field in EVENT_FIELDS)} "
        f"FROM (VALUES {_values(rows)}) AS wanted JOIN events e "
        "ON e.sender_device = wanted.column1 AND e.txn_id = wanted.column2 "
        "WHERE e.txn_id IS NOT NULL"
    )


@lru_cache(maxsize=256)
def _membership_sql(rows: int) -> str:
    # Membership and the conversation's last seq in one read.
    return (
        "SELECT m.conversation_id, m.account_id, c.last_seq "
        f"FROM (VALUES {_values(rows)}) AS wanted "
        "JOIN members m ON m.conversation_id = wanted.column1 AND m.account_id = wanted.column2 "
        "JOIN conversations c ON c.id = m.conversation_id"
    )


@lru_cache(maxsize=1024)
def _dialect_sql(sql: str, dialect: str) -> str:
    if dialect == "sqlite":
        return sql
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


class StoredEvent(NamedTuple):
    """An ``events`` row as the write path reads it back (a repeated txn_id's original)."""

    pos: int
    type: str
    conversation_id: str | None
    seq: int | None
    target_account: str | None
    feed_id: str | None
    sender_account: str | None
    sender_device: str | None
    txn_id: str | None
    created_at: int
    content: str
    franking_tag: str | None


def _run(conn: Connection, sql: str, params: Any = ()) -> Any:
    """Run ``sql``; the result iterates as tuples and has ``fetchone``, on either database."""
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        assert driver is not None
        if isinstance(params, list):
            return driver.executemany(sql, params)
        return driver.execute(sql, params)
    return conn.exec_driver_sql(_dialect_sql(sql, conn.dialect.name), params)


def read_position(conn: Connection, *, lock: bool) -> int:
    return int(_run(conn, _READ_POSITION + (" FOR UPDATE" if lock else "")).fetchone()[0])


def write_position(conn: Connection, pos: int) -> None:
    _run(conn, _WRITE_POSITION, (pos,))


def events_by_txn(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], StoredEvent]:
    pairs = list(keys)
    if not pairs:
        return {}
    params = tuple(value for pair in pairs for value in pair)
    rows = (StoredEvent(*row) for row in _run(conn, _txn_sql(len(pairs)), params))
    return {(row.sender_device or "", row.txn_id or ""): row for row in rows}


def memberships_and_seqs(
    conn: Connection, pairs: Iterable[tuple[str, str]]
) -> tuple[set[tuple[str, str]], dict[str, int]]:
    """Current memberships among ``(conversation, account)`` pairs, and their last seqs."""
    wanted = list(pairs)
    if not wanted:
        return set(), {}
    params = tuple(value for pair in wanted for value in pair)
    members: set[tuple[str, str]] = set()
    seqs: dict[str, int] = {}
    for conversation_id, account_id, last_seq in _run(conn, _membership_sql(len(wanted)), params):
        members.add((conversation_id, account_id))
        seqs[conversation_id] = int(last_seq)
    return members, seqs


def save_last_seqs(conn: Connection, seqs: dict[str, int]) -> None:
    if seqs:
        _run(conn, _SAVE_LAST_SEQ, [(seq, cid) for cid, seq in seqs.items()])


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        _run(conn, _INSERT_EVENT, [tuple(row[f] for f in EVENT_FIELDS) for row in rows])
