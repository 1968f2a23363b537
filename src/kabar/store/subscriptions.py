"""Queries over subscriptions and the feed merged from subscribed accounts.

The feed is ordered by ``articles.feed_pos`` (the stream position of each
article's ``article.published`` event), newest first. Two plans, chosen by how
many accounts the reader follows:

* few: take each account's newest ``limit`` articles from its
  ``(public_account_id, feed_pos)`` index and merge — cost grows with the
  number of subscriptions, not with the size of the instance;
* many: walk the instance-wide ``feed_pos`` index downwards and keep the
  articles of subscribed accounts — cost grows with ``limit`` divided by the
  share of the instance's articles the reader follows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, desc, exists, func, insert, select, union_all, update

from kabar.store.articles import select_articles
from kabar.store.rows import Record
from kabar.store.schema import articles, public_accounts, subscriptions
from kabar.store.threaded import Executor

# Up to this many subscriptions, merge per-account index scans (see the module docstring).
PER_ACCOUNT_PLAN_MAX = 32


async def subscription(conn: Executor, account_id: str, public_account_id: str) -> Record | None:
    result = await conn.execute(
        select(subscriptions).where(
            subscriptions.c.account_id == account_id,
            subscriptions.c.public_account_id == public_account_id,
        )
    )
    return result.first()


async def insert_subscription(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(subscriptions).values(**values))


async def insert_subscriptions(conn: Executor, rows: list[dict[str, Any]]) -> None:
    """Many at once (imports, benchmarks)."""
    if rows:
        await conn.execute(insert(subscriptions), rows)


async def set_notifications(
    conn: Executor, account_id: str, public_account_id: str, on: bool
) -> None:
    await conn.execute(
        update(subscriptions)
        .where(
            subscriptions.c.account_id == account_id,
            subscriptions.c.public_account_id == public_account_id,
        )
        .values(notifications=on)
    )


async def delete_subscription(conn: Executor, account_id: str, public_account_id: str) -> None:
    await conn.execute(
        delete(subscriptions).where(
            subscriptions.c.account_id == account_id,
            subscriptions.c.public_account_id == public_account_id,
        )
    )


async def subscriptions_of(conn: Executor, account_id: str) -> list[Record]:
    query = (
        select(
            subscriptions.c.public_account_id,
            subscriptions.c.notifications,
            subscriptions.c.created_at,
            public_accounts.c.handle,
            public_accounts.c.name,
        )
        .join(public_accounts, public_accounts.c.id == subscriptions.c.public_account_id)
        .where(subscriptions.c.account_id == account_id)
        .order_by(public_accounts.c.handle)
    )
    return list(await conn.execute(query))


async def feed(conn: Executor, account_id: str, before_pos: int | None, limit: int) -> list[Record]:
    """The newest published articles (summary columns) of accounts ``account_id`` follows."""
    followed = [
        row.public_account_id
        for row in await conn.execute(
            select(subscriptions.c.public_account_id)
            .where(subscriptions.c.account_id == account_id)
            .limit(PER_ACCOUNT_PLAN_MAX + 1)
        )
    ]
    if not followed:
        return []
    if len(followed) <= PER_ACCOUNT_PLAN_MAX:
        # Two steps: joined inside the union, SQLite would repeat the joins in every arm.
        ids = [
            row.id for row in await conn.execute(_merge_per_account(followed, before_pos, limit))
        ]
        query = select_articles().where(articles.c.id.in_(ids)).order_by(desc(articles.c.feed_pos))
    else:
        query = _walk_instance(account_id, before_pos, limit)
    return list(await conn.execute(query))


def _published_before(before_pos: int | None) -> list[Any]:
    conditions: list[Any] = [articles.c.feed_pos.is_not(None)]
    if before_pos is not None:
        conditions.append(articles.c.feed_pos < before_pos)
    return conditions


def _merge_per_account(followed: list[str], before_pos: int | None, limit: int) -> Any:
    per_account = [
        select(
            select(articles.c.id, articles.c.feed_pos)
            .where(articles.c.public_account_id == public_account_id)
            .where(*_published_before(before_pos))
            .order_by(desc(articles.c.feed_pos))
            .limit(limit)
            .subquery()
        )
        for public_account_id in followed
    ]
    merged = union_all(*per_account).subquery()
    return select(merged.c.id).order_by(desc(merged.c.feed_pos)).limit(limit)


def _walk_instance(account_id: str, before_pos: int | None, limit: int) -> Any:
    subscribed = exists().where(
        subscriptions.c.account_id == account_id,
        subscriptions.c.public_account_id == articles.c.public_account_id,
    )
    return (
        select_articles()
        .where(*_published_before(before_pos), subscribed)
        .order_by(desc(articles.c.feed_pos))
        .limit(limit)
    )


async def subscriber_count(conn: Executor, public_account_id: str) -> int:
    result = await conn.execute(
        select(func.count()).where(subscriptions.c.public_account_id == public_account_id)
    )
    return int(result.scalar_one())
