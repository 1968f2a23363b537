"""Reading articles: one article, lists, the revision history, what feeds and pages show.

Published articles are readable by anyone, signed in or not; drafts, scheduled
and unpublished articles only by the account's members
(:mod:`kabar.public.permissions`). Lists are newest first, paged by an opaque
cursor over ``feed_pos``, so articles published while someone pages through
never shift the pages they have not seen yet.
"""

from __future__ import annotations

from kabar.accounts.models import Principal
from kabar.config import Config
from kabar.errors import ErrorCode, NotFound
from kabar.ids import decode_cursor, encode_cursor, looks_like_id
from kabar.public.accounts import account_row, lookup_handle
from kabar.public.models import (
    Article,
    Page,
    PublicAccount,
    Revision,
    article_from_row,
    public_account_from_row,
    signature_from_row,
)
from kabar.public.permissions import article_not_found, is_editor, require_editor
from kabar.public.render import render_article
from kabar.store import articles as store
from kabar.store import engagement
from kabar.store import public as public_store
from kabar.store.database import Database
from kabar.store.rows import Record
from kabar.store.threaded import Executor
from kabar.workers import Workers


class ArticleReader:
    def __init__(self, database: Database, workers: Workers, config: Config) -> None:
        self._db = database
        self._workers = workers
        self._url = config.server.public_url
        self._page_max = config.limits.public_page_max

    def _limit(self, limit: int) -> int:
        return max(1, min(limit, self._page_max))

    async def get(self, article_id: str, viewer: Principal | None = None) -> Article:
        if not looks_like_id(article_id, "r"):
            raise article_not_found()
        async with self._db.read() as conn:
            return await self._full(conn, await store.by_id(conn, article_id), viewer)

    async def by_slug(self, handle: str, slug: str, viewer: Principal | None = None) -> Article:
        async with self._db.read() as conn:
            account = await public_store.by_handle(conn, lookup_handle(handle))
            row = await store.by_slug(conn, account.id, slug) if account else None
            return await self._full(conn, row, viewer)

    async def _full(self, conn: Executor, row: Record | None, viewer: Principal | None) -> Article:
        if row is None:
            raise article_not_found()
        role = await _role(conn, row.public_account_id, viewer)
        if row.status != "published" and not is_editor(role):
            raise article_not_found()
        return await full_article(conn, row, viewer, self._url)

    async def published(
        self, handle: str, cursor: str | None = None, limit: int = 20
    ) -> tuple[PublicAccount, Page[Article]]:
        """One account's published articles, newest first."""
        limit = self._limit(limit)
        before = decode_cursor(cursor, int)
        async with self._db.read() as conn:
            account = await account_row(conn, handle)
            rows = await store.published(conn, account.id, before[0] if before else None, limit + 1)
        return public_account_from_row(account, self._url), self._page(rows, limit)

    async def latest(self, limit: int = 10, cursor: str | None = None) -> Page[Article]:
        """The instance's newest published articles."""
        limit = self._limit(limit)
        before = decode_cursor(cursor, int)
        async with self._db.read() as conn:
            rows = await store.published(conn, None, before[0] if before else None, limit + 1)
        return self._page(rows, limit)

    async def with_content(self, handle: str, limit: int) -> tuple[PublicAccount, list[Article]]:
        """An account and its newest articles with their HTML (Atom and RSS feeds)."""
        async with self._db.read() as conn:
            account = await account_row(conn, handle)
            rows = await store.published(conn, account.id, None, self._limit(limit), full=True)
        return (
            public_account_from_row(account, self._url),
            [article_from_row(r, self._url) for r in rows],
        )

    async def in_order(self, ids: list[str]) -> list[Article]:
        """The published articles among ``ids``, in the order given."""
        async with self._db.read() as conn:
            rows = {r.id: r for r in await store.by_ids(conn, ids)}
        return [
            article_from_row(rows[i], self._url)
            for i in ids
            if i in rows and rows[i].status == "published"
        ]

    async def unpublished(
        self, principal: Principal, handle: str, limit: int = 50
    ) -> list[Article]:
        """Drafts, scheduled and unpublished articles (members only)."""
        async with self._db.read() as conn:
            account = await account_row(conn, handle)
            require_editor(await public_store.member_role(conn, account.id, principal.account_id))
            rows = await store.unpublished(conn, account.id, self._limit(limit))
        return [article_from_row(r, self._url) for r in rows]

    async def revisions(self, article_id: str, viewer: Principal | None = None) -> list[Revision]:
        """The public history: every revision up to the current one, newest first."""
        async with self._db.read() as conn:
            row = await self._visible(conn, article_id, viewer)
            rows = await store.revisions(conn, row.id, row.revision)
        return [_revision(r) for r in rows]

    async def revision(
        self, article_id: str, number: int, viewer: Principal | None = None
    ) -> Revision:
        """One revision with its Markdown (as signed) and its HTML."""
        async with self._db.read() as conn:
            row = await self._visible(conn, article_id, viewer)
            found = await store.revision(conn, row.id, number) if number <= row.revision else None
        if found is None:
            raise NotFound("no such revision", code=ErrorCode.REVISION_NOT_FOUND)
        rendered = await self._workers.run(render_article, found.markdown)
        return _revision(found, markdown=found.markdown, html=rendered.html)

    async def _visible(self, conn: Executor, article_id: str, viewer: Principal | None) -> Record:
        if not looks_like_id(article_id, "r"):
            raise article_not_found()
        row = await store.by_id(conn, article_id, full=False)
        if row is None:
            raise article_not_found()
        if row.status != "published" and not is_editor(
            await _role(conn, row.public_account_id, viewer)
        ):
            raise article_not_found()
        return row

    def _page(self, rows: list[Record], limit: int) -> Page[Article]:
        """``rows`` holds up to ``limit + 1``: the extra one only says there is a next page."""
        shown = rows[:limit]
        articles = [article_from_row(r, self._url) for r in shown]
        more = len(rows) > limit
        return Page(articles, encode_cursor(int(shown[-1].feed_pos)) if more else None)


async def full_article(
    conn: Executor, row: Record, viewer: Principal | None, public_url: str
) -> Article:
    """An article with its current signature and reactions (no visibility check: callers')."""
    revision = await store.revision(conn, row.id, row.revision) if row.revision else None
    mine = await engagement.reactions_by(conn, row.id, viewer.account_id) if viewer else set()
    return article_from_row(
        row,
        public_url,
        signature=signature_from_row(revision) if revision else None,
        reactions=await engagement.reaction_counts(conn, row.id),
        my_reactions=tuple(sorted(mine)),
    )


async def _role(conn: Executor, public_account_id: str, viewer: Principal | None) -> str | None:
    if viewer is None:
        return None
    return await public_store.member_role(conn, public_account_id, viewer.account_id)


def _revision(row: Record, markdown: str | None = None, html: str | None = None) -> Revision:
    return Revision(
        article_id=row.article_id,
        revision=row.revision,
        title=row.title,
        slug=row.slug,
        handle=row.handle,
        published_at=row.published_at,
        signature=signature_from_row(row),
        markdown=markdown,
        html=html,
    )
