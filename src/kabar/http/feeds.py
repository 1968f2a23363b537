"""Atom and RSS feeds of a public account: ``/@handle/feed.atom`` and ``/@handle/feed.rss``.

Built by kabar.public.feeds from the newest published articles, with their full
sanitised HTML. Entry ids are ``tag:`` URIs over the article's immutable id,
so readers never see an entry twice, even if the article is edited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Response

from kabar.errors import NotFound
from kabar.http.deps import Svc
from kabar.public.feeds import (
    ATOM_MEDIA_TYPE,
    RSS_MEDIA_TYPE,
    FeedAccount,
    FeedEntry,
    atom_feed,
    rss_feed,
    tag_uri,
)
from kabar.public.models import Article

router = APIRouter(include_in_schema=False)

ENTRIES = 20


def _moment(ms: int | None) -> datetime:
    return datetime.fromtimestamp((ms or 0) / 1000, UTC)


def _entry(article: Article, authority: str) -> FeedEntry:
    published = _moment(article.published_at)
    return FeedEntry(
        id=tag_uri(authority, published.date(), f"article/{article.id}"),
        title=article.title,
        url=article.url,
        published=published,
        updated=_moment(article.edited_at or article.published_at),
        author=article.byline.display_name if article.byline else article.account_name,
        summary=article.summary,
        content_html=article.html or "",
    )


async def _feed(handle: str, svc: Svc, kind: str) -> Response:
    try:
        account, articles = await svc.reader.with_content(handle, ENTRIES)
    except NotFound:
        return Response("no such public account", status_code=404, media_type="text/plain")
    authority = urlsplit(svc.config.server.public_url).hostname or "localhost"
    feed_account = FeedAccount(account.handle, account.name, account.bio, account.url)
    entries = [_entry(a, authority) for a in articles]
    self_url = f"{account.url}/feed.{kind}"
    if kind == "atom":
        return Response(
            atom_feed(feed_account, entries, self_url=self_url), media_type=ATOM_MEDIA_TYPE
        )
    return Response(rss_feed(feed_account, entries, self_url=self_url), media_type=RSS_MEDIA_TYPE)


@router.get("/@{handle}/feed.atom")
async def atom(handle: str, svc: Svc) -> Response:
    return await _feed(handle, svc, "atom")


@router.get("/@{handle}/feed.rss")
async def rss(handle: str, svc: Svc) -> Response:
    return await _feed(handle, svc, "rss")
