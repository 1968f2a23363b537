"""Queries over articles and their revisions.

An article row holds its current content (rendered once when saved); ``feed_pos`` is
the stream position of its ``article.published`` event while it is published, and
NULL otherwise, so "published" lists are index range scans in ``feed_pos`` order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, desc, insert, select, update

from kabar.store.rows import Record
from kabar.store.schema import accounts, article_revisions, articles, public_accounts
from kabar.store.threaded import Executor

_AUTHOR = accounts.alias("author")

# Everything a list needs (no Markdown, no HTML).
SUMMARY_COLUMNS = (
    articles.c.id,
    articles.c.public_account_id,
    articles.c.slug,
    articles.c.status,
    articles.c.title,
    articles.c.summary,
    articles.c.word_count,
    articles.c.reading_minutes,
    articles.c.image,
    articles.c.revision,
    articles.c.created_at,
    articles.c.updated_at,
    articles.c.scheduled_at,
    articles.c.author_id,
    articles.c.published_at,
    articles.c.edited_at,
    articles.c.feed_pos,
    articles.c.view_count,
    articles.c.comment_count,
    articles.c.label,
    public_accounts.c.handle,
    public_accounts.c.name.label("account_name"),
    public_accounts.c.kind.label("account_kind"),
    public_accounts.c.avatar_url.label("account_avatar_url"),
    public_accounts.c.verified_at.label("account_verified_at"),
    _AUTHOR.c.username.label("author_username"),
    _AUTHOR.c.display_name.label("author_name"),
)
FULL_COLUMNS = (*SUMMARY_COLUMNS, articles.c.markdown, articles.c.html)


def select_articles(columns: tuple[Any, ...] = SUMMARY_COLUMNS) -> Any:
    """SELECT articles with their account's handle, name and badge, and the author's name.

    Articles a moderator removed, and every article of a removed public account, are left
    out here, so they vanish from the API, pages, feeds and search at once.
    """
    return (
        select(*columns)
        .join(public_accounts, public_accounts.c.id == articles.c.public_account_id)
        .outerjoin(_AUTHOR, _AUTHOR.c.id == articles.c.author_id)
        .where(articles.c.removed_at.is_(None), public_accounts.c.removed_at.is_(None))
    )


async def insert_article(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(articles).values(**values))


async def insert_articles(conn: Executor, rows: list[dict[str, Any]]) -> None:
    """Many at once (imports, benchmarks)."""
    if rows:
        await conn.execute(insert(articles), rows)


async def update_article(conn: Executor, article_id: str, **values: Any) -> None:
    await conn.execute(update(articles).where(articles.c.id == article_id).values(**values))


async def delete_article(conn: Executor, article_id: str) -> None:
    await conn.execute(delete(articles).where(articles.c.id == article_id))


async def by_id(conn: Executor, article_id: str, *, full: bool = True) -> Record | None:
    query = select_articles(FULL_COLUMNS if full else SUMMARY_COLUMNS).where(
        articles.c.id == article_id
    )
    return (await conn.execute(query)).first()


async def by_slug(conn: Executor, public_account_id: str, slug: str) -> Record | None:
    query = select_articles(FULL_COLUMNS).where(
        articles.c.public_account_id == public_account_id, articles.c.slug == slug
    )
    return (await conn.execute(query)).first()


async def by_ids(conn: Executor, ids: list[str]) -> list[Record]:
    if not ids:
        return []
    return list(await conn.execute(select_articles().where(articles.c.id.in_(ids))))


async def slugs_like(conn: Executor, public_account_id: str, base: str) -> set[str]:
    """Slugs of the account that start with ``base`` (slugs hold no LIKE wildcards)."""
    result = await conn.execute(
        select(articles.c.slug).where(
            articles.c.public_account_id == public_account_id, articles.c.slug.startswith(base)
        )
    )
    return {row.slug for row in result}


async def published(
    conn: Executor,
    public_account_id: str | None,
    before_pos: int | None,
    limit: int,
    *,
    full: bool = False,
) -> list[Record]:
    """Published articles, newest first: of one account, or of the whole instance."""
    query = select_articles(FULL_COLUMNS if full else SUMMARY_COLUMNS).where(
        articles.c.feed_pos.is_not(None)
    )
    if public_account_id is not None:
        query = query.where(articles.c.public_account_id == public_account_id)
    if before_pos is not None:
        query = query.where(articles.c.feed_pos < before_pos)
    return list(await conn.execute(query.order_by(desc(articles.c.feed_pos)).limit(limit)))


async def unpublished(conn: Executor, public_account_id: str, limit: int) -> list[Record]:
    """Drafts, scheduled and unpublished articles, most recently changed first."""
    query = (
        select_articles()
        .where(articles.c.public_account_id == public_account_id, articles.c.status != "published")
        .order_by(desc(articles.c.updated_at), articles.c.id)
        .limit(limit)
    )
    return list(await conn.execute(query))


async def due(conn: Executor, now_ms: int, limit: int) -> list[str]:
    """Ids of scheduled articles whose time has come, earliest first."""
    query = (
        select(articles.c.id)
        .where(articles.c.status == "scheduled", articles.c.scheduled_at <= now_ms)
        .order_by(articles.c.scheduled_at)
        .limit(limit)
    )
    return [row.id for row in await conn.execute(query)]


async def insert_revision(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(article_revisions).values(**values))


async def delete_revision(conn: Executor, article_id: str, revision: int) -> None:
    await conn.execute(
        delete(article_revisions).where(
            article_revisions.c.article_id == article_id,
            article_revisions.c.revision == revision,
        )
    )


async def revision(conn: Executor, article_id: str, number: int) -> Record | None:
    result = await conn.execute(
        select(article_revisions).where(
            article_revisions.c.article_id == article_id, article_revisions.c.revision == number
        )
    )
    return result.first()


async def revisions(conn: Executor, article_id: str, upto: int) -> list[Record]:
    """Revisions 1 … ``upto`` without their Markdown, newest first."""
    columns = [c for c in article_revisions.c if c.name != "markdown"]
    query = (
        select(*columns)
        .where(article_revisions.c.article_id == article_id, article_revisions.c.revision <= upto)
        .order_by(desc(article_revisions.c.revision))
    )
    return list(await conn.execute(query))
