"""Queries over feed periods: when an account receives a public account's live events."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update

from kabar.store.schema import feed_periods
from kabar.store.threaded import Executor


async def start_following(conn: Executor, feed_id: str, account_id: str, pos: int) -> None:
    await conn.execute(
        insert(feed_periods).values(
            feed_id=feed_id, account_id=account_id, from_pos=pos, to_pos=None
        )
    )


async def start_following_all(
    conn: Executor, feed_id: str, account_ids: list[str], pos: int
) -> None:
    """Many followers at once (imports, benchmarks)."""
    if account_ids:
        await conn.execute(
            insert(feed_periods),
            [
                {"feed_id": feed_id, "account_id": a, "from_pos": pos, "to_pos": None}
                for a in account_ids
            ],
        )


async def stop_following(conn: Executor, feed_id: str, account_id: str, pos: int) -> None:
    await conn.execute(
        update(feed_periods)
        .where(
            feed_periods.c.feed_id == feed_id,
            feed_periods.c.account_id == account_id,
            feed_periods.c.to_pos.is_(None),
        )
        .values(to_pos=pos)
    )


async def is_following(conn: Executor, feed_id: str, account_id: str) -> bool:
    result = await conn.execute(
        select(feed_periods.c.from_pos).where(
            feed_periods.c.feed_id == feed_id,
            feed_periods.c.account_id == account_id,
            feed_periods.c.to_pos.is_(None),
        )
    )
    return result.first() is not None


# Built once, like the account's conversations (store/conversations.py).
_FEEDS_FOLLOWED_BY = select(feed_periods.c.feed_id).where(
    feed_periods.c.account_id == bindparam("account_id"), feed_periods.c.to_pos.is_(None)
)


async def feeds_followed_by(conn: Executor, account_id: str) -> set[str]:
    result = await conn.execute(_FEEDS_FOLLOWED_BY, {"account_id": account_id})
    return {row.feed_id for row in result}
