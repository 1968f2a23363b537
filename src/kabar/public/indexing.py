"""What discovery indexes for public accounts and articles (kabar.store.search stores it).

Called from the writer jobs that change what is public, so the index is
updated in the same transaction: an article is findable exactly while it is
published.
"""

from __future__ import annotations

import html
import re

from kabar.store import search
from kabar.store.threaded import Executor

ACCOUNT = "account"
ARTICLE = "article"

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def article_text(sanitised_html: str) -> str:
    """Plain text of a rendered article (its HTML is ours, so a tag strip is exact)."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", sanitised_html))).strip()


async def index_account(
    conn: Executor, public_account_id: str, handle: str, name: str, bio: str
) -> None:
    await search.put_document(conn, ACCOUNT, public_account_id, f"{name} {handle}", bio)


async def index_article(conn: Executor, article_id: str, title: str, text: str) -> None:
    await search.put_document(conn, ARTICLE, article_id, title, text)


async def unindex_article(conn: Executor, article_id: str) -> None:
    await search.remove_document(conn, ARTICLE, article_id)
