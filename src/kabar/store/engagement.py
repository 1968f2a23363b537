"""Queries over what readers do with articles: views, reactions and comments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from kabar.store.rows import Record
from kabar.store.schema import (
    accounts,
    article_reactions,
    article_views,
    articles,
    comments,
    view_keys,
)
from kabar.store.threaded import Executor


def _insert_ignoring_duplicates(conn: Executor, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


# -- views ------------------------------------------------------------------------------------


async def view_key(conn: Executor, day: int) -> bytes | None:
    result = await conn.execute(select(view_keys.c.secret).where(view_keys.c.day == day))
    secret = result.scalar_one_or_none()
    return None if secret is None else bytes(secret)


async def create_view_key(conn: Executor, day: int, secret: bytes) -> bytes:
    """Store ``secret`` for ``day`` unless another node was first; return the one kept."""
    await conn.execute(_insert_ignoring_duplicates(conn, view_keys).values(day=day, secret=secret))
    kept = await view_key(conn, day)
    assert kept is not None
    return kept


async def record_views(conn: Executor, views: list[tuple[int, str, str]]) -> int:
    """Record ``(day, article_id, viewer_hash)`` views; count each new one on its article."""
    counted = 0
    for day, article_id, viewer in views:
        result = await conn.execute(
            _insert_ignoring_duplicates(conn, article_views).values(
                day=day, article_id=article_id, viewer=viewer
            )
        )
        if result.rowcount:
            counted += 1
            await conn.execute(
                update(articles)
                .where(articles.c.id == article_id)
                .values(view_count=articles.c.view_count + 1)
            )
    return counted


async def forget_views_before(conn: Executor, day: int) -> None:
    """Drop older days' view hashes and their keys: only the counts remain."""
    await conn.execute(delete(article_views).where(article_views.c.day < day))
    await conn.execute(delete(view_keys).where(view_keys.c.day < day))


# -- reactions --------------------------------------------------------------------------------


async def add_reaction(
    conn: Executor, article_id: str, account_id: str, reaction: str, now: int
) -> None:
    await conn.execute(
        _insert_ignoring_duplicates(conn, article_reactions).values(
            article_id=article_id, account_id=account_id, reaction=reaction, created_at=now
        )
    )


async def remove_reaction(conn: Executor, article_id: str, account_id: str, reaction: str) -> None:
    await conn.execute(
        delete(article_reactions).where(
            article_reactions.c.article_id == article_id,
            article_reactions.c.account_id == account_id,
            article_reactions.c.reaction == reaction,
        )
    )


async def reaction_counts(conn: Executor, article_id: str) -> dict[str, int]:
    query = (
        select(article_reactions.c.reaction, func.count().label("n"))
        .where(article_reactions.c.article_id == article_id)
        .group_by(article_reactions.c.reaction)
    )
    return {row.reaction: int(row.n) for row in await conn.execute(query)}


async def reactions_by(conn: Executor, article_id: str, account_id: str) -> set[str]:
    query = select(article_reactions.c.reaction).where(
        article_reactions.c.article_id == article_id,
        article_reactions.c.account_id == account_id,
    )
    return {row.reaction for row in await conn.execute(query)}


# -- comments ---------------------------------------------------------------------------------


async def insert_comment(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(comments).values(**values))
    await conn.execute(
        update(articles)
        .where(articles.c.id == values["article_id"])
        .values(comment_count=articles.c.comment_count + 1)
    )


async def comment(conn: Executor, comment_id: str) -> Record | None:
    """A comment, unless a moderator removed it."""
    query = select(comments).where(comments.c.id == comment_id, comments.c.removed_at.is_(None))
    return (await conn.execute(query)).first()


async def set_hidden(
    conn: Executor, comment_id: str, hidden_at: int | None, hidden_by: str | None
) -> None:
    await conn.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(hidden_at=hidden_at, hidden_by=hidden_by)
    )


async def comments_of(
    conn: Executor, article_id: str, after: tuple[int, str] | None, limit: int
) -> list[Record]:
    """Comments in the order they were written, after the ``(created_at, id)`` cursor."""
    query = (
        select(*comments.c, accounts.c.username, accounts.c.display_name)
        .join(accounts, accounts.c.id == comments.c.account_id)
        .where(comments.c.article_id == article_id, comments.c.removed_at.is_(None))
    )
    if after is not None:
        created_at, comment_id = after
        query = query.where(
            or_(
                comments.c.created_at > created_at,
                and_(comments.c.created_at == created_at, comments.c.id > comment_id),
            )
        )
    query = query.order_by(comments.c.created_at, comments.c.id).limit(limit)
    return list(await conn.execute(query))
