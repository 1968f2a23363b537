"""Discovery: text search over public accounts and published articles.

The query language and ranking are described in kabar.store.search; results
come back as the same models the rest of the API uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from kabar.config import Config
from kabar.public import indexing
from kabar.public.models import Article, PublicAccount, article_from_row, public_account_from_row
from kabar.public.text import checked_text
from kabar.store import articles as article_store
from kabar.store import public as public_store
from kabar.store import search as store
from kabar.store.database import Database

QUERY_MAX = 200


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    accounts: list[PublicAccount]
    articles: list[Article]


class SearchService:
    def __init__(self, database: Database, config: Config) -> None:
        self._db = database
        self._url = config.server.public_url
        self._page_max = config.limits.public_page_max

    async def search(self, query: str, limit: int = 20) -> SearchResults:
        query = checked_text(query, field="q", max_chars=QUERY_MAX)
        limit = max(1, min(limit, self._page_max))
        if not query:
            return SearchResults(query, [], [])
        async with self._db.read() as conn:
            account_ids = await store.search(conn, indexing.ACCOUNT, query, limit)
            article_ids = await store.search(conn, indexing.ARTICLE, query, limit)
            accounts = {r.id: r for r in await public_store.by_ids(conn, account_ids)}
            articles = {r.id: r for r in await article_store.by_ids(conn, article_ids)}
        return SearchResults(
            query,
            [public_account_from_row(accounts[i], self._url) for i in account_ids if i in accounts],
            [
                article_from_row(articles[i], self._url)
                for i in article_ids
                if i in articles and articles[i].status == "published"
            ],
        )
