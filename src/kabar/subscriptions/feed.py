"""The feed: articles of every account a reader subscribes to, newest first.

Ordered by publication position (``feed_pos``, the stream position of each
``article.published`` event), and paged by an opaque cursor holding the last
position shown. Positions only grow, so whatever is published while a reader
pages appears above their first page, never inside later ones: no repeats, no
gaps. kabar.store.subscriptions picks the query plan.
"""

from __future__ import annotations

from kabar.accounts.models import Principal
from kabar.ids import decode_cursor, encode_cursor
from kabar.public.models import Article, Page, article_from_row
from kabar.store import subscriptions as store
from kabar.store.database import Database


class FeedService:
    def __init__(self, database: Database, public_url: str, page_max: int) -> None:
        self._db = database
        self._url = public_url
        self._page_max = page_max

    async def page(
        self, principal: Principal, cursor: str | None = None, limit: int = 20
    ) -> Page[Article]:
        limit = max(1, min(limit, self._page_max))
        before = decode_cursor(cursor, int)
        async with self._db.read() as conn:
            rows = await store.feed(
                conn, principal.account_id, before[0] if before else None, limit + 1
            )
        shown = rows[:limit]
        articles = [article_from_row(row, self._url) for row in shown]
        next_cursor = encode_cursor(int(shown[-1].feed_pos)) if len(rows) > limit else None
        return Page(articles, next_cursor)
