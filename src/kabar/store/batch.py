"""The write path's hot statements, as plain SQL run through the DB-API driver.

A run of message sends is checked and stored by a handful of set-based
statements. They run on every batch, so they skip SQLAlchemy's statement
construction and compilation (measured at ~100 µs a statement here, more than
SQLite needs to execute them) and go through ``Connection.exec_driver_sql``
with SQL written once below, portable between SQLite and PostgreSQL; only the
placeholder style differs. Everything else — and every other query in kabar —
uses SQLAlchemy Core. The writer runs these through ``run_sync``: on SQLite one
hop to the writer's thread for the whole batch (``store/threaded.py``), on
PostgreSQL the same code drives asyncpg through SQLAlchemy's greenlet bridge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection

from kabar.store.rows import Record

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


@lru_cache(maxsize=256)
def _txn_sql(rows: int) -> str:
    return (
        f"SELECT {', '.join(EVENT_FIELDS)} FROM events "
        f"WHERE txn_id IS NOT NULL AND (sender_device, txn_id) IN (VALUES {_values(rows)})"
    )


@lru_cache(maxsize=256)
def _membership_sql(rows: int) -> str:
    # Membership and the conversation's last seq in one read.
    return (
        "SELECT m.conversation_id, m.account_id, c.last_seq FROM members m "
        "JOIN conversations c ON c.id = m.conversation_id "
        f"WHERE (m.conversation_id, m.account_id) IN (VALUES {_values(rows)})"
    )


@lru_cache(maxsize=1024)
def _dialect_sql(sql: str, dialect: str) -> str:
    if dialect == "sqlite":
        return sql
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


def _run(conn: Connection, sql: str, params: Any = ()) -> Any:
    return conn.exec_driver_sql(_dialect_sql(sql, conn.dialect.name), params)


def read_position(conn: Connection, *, lock: bool) -> int:
    return int(_run(conn, _READ_POSITION + (" FOR UPDATE" if lock else "")).scalar_one())


def write_position(conn: Connection, pos: int) -> None:
    _run(conn, _WRITE_POSITION, (pos,))


def events_by_txn(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Record]:
    pairs = list(keys)
    if not pairs:
        return {}
    params = tuple(value for pair in pairs for value in pair)
    return {
        (row.sender_device, row.txn_id): row for row in _run(conn, _txn_sql(len(pairs)), params)
    }


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
    for row in _run(conn, _membership_sql(len(wanted)), params):
        members.add((row.conversation_id, row.account_id))
        seqs[row.conversation_id] = int(row.last_seq)
    return members, seqs


def save_last_seqs(conn: Connection, seqs: dict[str, int]) -> None:
    if seqs:
        _run(conn, _SAVE_LAST_SEQ, [(seq, cid) for cid, seq in seqs.items()])


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        _run(conn, _INSERT_EVENT, [tuple(row[f] for f in EVENT_FIELDS) for row in rows])
