"""Queries for the stored transparency log: its state row, leaves, subtree nodes and heads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, func, insert, or_, select, update

from kabar.moderation.transparency.frontier import NodeId
from kabar.moderation.transparency.merkle import HASH_SIZE
from kabar.store.rows import Record
from kabar.store.schema_transparency import (
    transparency_heads,
    transparency_leaves,
    transparency_nodes,
    transparency_state,
)
from kabar.store.threaded import Executor

STATE_ID = 1
NODE_CHUNK = 400


async def load_state(conn: Executor, *, lock: bool = False) -> tuple[int, list[bytes]]:
    """``(size, frontier hashes)``; ``lock`` takes the row lock (PostgreSQL) until commit."""
    query = select(transparency_state.c.size, transparency_state.c.frontier).where(
        transparency_state.c.id == STATE_ID
    )
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return 0, []
    packed = bytes(row.frontier)
    return int(row.size), [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]


async def save_state(conn: Executor, size: int, frontier: Sequence[bytes], now_ms: int) -> None:
    await conn.execute(
        update(transparency_state)
        .where(transparency_state.c.id == STATE_ID)
        .values(size=size, frontier=b"".join(frontier), updated_at=now_ms)
    )


async def insert_leaf(conn: Executor, **values: object) -> None:
    await conn.execute(insert(transparency_leaves).values(**values))


async def insert_nodes(conn: Executor, nodes: Iterable[tuple[NodeId, bytes]]) -> None:
    rows = [{"level": n.level, "idx": n.index, "hash": h} for n, h in nodes]
    if rows:
        await conn.execute(insert(transparency_nodes), rows)


async def read_nodes(conn: Executor, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
    wanted = sorted({(n.level, n.index) for n in ids})
    found: dict[NodeId, bytes] = {}
    # Chunked: each pair is two bound parameters, and SQLite caps their number.
    for i in range(0, len(wanted), NODE_CHUNK):
        # OR of (level, idx) pairs, not a row-value IN: SQLite answers that by scanning
        # the whole table, and this one grows with every record of the log.
        pairs = (
            and_(transparency_nodes.c.level == level, transparency_nodes.c.idx == index)
            for level, index in wanted[i : i + NODE_CHUNK]
        )
        result = await conn.execute(select(transparency_nodes).where(or_(*pairs)))
        found.update({NodeId(r.level, r.idx): bytes(r.hash) for r in result})
    return found


async def leaves(conn: Executor, start: int, end: int) -> list[Record]:
    """Stored leaves with ``start <= seq < end``, in order."""
    result = await conn.execute(
        select(transparency_leaves)
        .where(transparency_leaves.c.seq >= start, transparency_leaves.c.seq < end)
        .order_by(transparency_leaves.c.seq)
    )
    return list(result)


async def leaves_between(conn: Executor, start_ms: int, end_ms: int) -> list[Record]:
    """Stored leaves logged in ``[start_ms, end_ms)``, in log order."""
    result = await conn.execute(
        select(transparency_leaves)
        .where(transparency_leaves.c.time_ms >= start_ms, transparency_leaves.c.time_ms < end_ms)
        .order_by(transparency_leaves.c.seq)
    )
    return list(result)


async def months(conn: Executor) -> tuple[int, int] | None:
    """The first and last ``time_ms`` in the log, or None if it is empty."""
    query = select(
        func.min(transparency_leaves.c.time_ms).label("first"),
        func.max(transparency_leaves.c.time_ms).label("last"),
    )
    row = (await conn.execute(query)).first()
    if row is None or row.first is None:
        return None
    return int(row.first), int(row.last)


async def head(conn: Executor, log_id: str, tree_size: int) -> Record | None:
    result = await conn.execute(
        select(transparency_heads).where(
            transparency_heads.c.log_id == log_id, transparency_heads.c.tree_size == tree_size
        )
    )
    return result.first()


async def insert_head(conn: Executor, **values: object) -> None:
    await conn.execute(insert(transparency_heads).values(**values))
