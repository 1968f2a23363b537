"""Making an article public and taking it down again: the writer-job steps both the
article service and the scheduler use, so the two paths cannot drift apart.

Going live, in one transaction: the ``article.published`` event on the public
account's feed channel (DESIGN §3: subscribers with notifications on receive it,
live and by sync), the article's ``feed_pos`` (that event's stream position — the
feed's sort key), the account's article count, and the search index. Edits of a
live article change its content and revision but keep its place in feeds and
emit nothing. Taking down reverses each step except the event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from kabar.delivery import events as ev
from kabar.delivery.transaction import WriteTx
from kabar.public import indexing
from kabar.public.models import ArticleStatus, account_url
from kabar.store import articles as store
from kabar.store import public as public_store
from kabar.store.rows import Record


async def go_live(
    tx: WriteTx,
    row: Record,
    *,
    revision: int,
    author: tuple[str, str],
    signed_at: int,
    text: str,
    public_url: str,
    content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Publish ``revision`` of the article ``row`` (read in this transaction).

    ``author`` is the (account id, username) of the revision's publisher,
    ``signed_at`` its signed time (ms), ``text`` its plain text for the index,
    and ``content`` new title/Markdown/HTML… columns, if they change now.
    Returns the values written.
    """
    values: dict[str, Any] = {
        **(content or {}),
        "status": ArticleStatus.PUBLISHED.value,
        "revision": revision,
        "scheduled_at": None,
        "updated_at": tx.now_ms,
        "published_at": row.published_at if row.published_at is not None else signed_at,
        "edited_at": signed_at if revision > 1 else None,
        "author_id": row.author_id or author[0],
    }
    if row.status != ArticleStatus.PUBLISHED:
        summary = {**_fields(row), **values}
        appended = await tx.append_event(
            ev.ARTICLE_PUBLISHED,
            event_content(row, summary, author[1], public_url),
            feed_id=row.public_account_id,
        )
        values["feed_pos"] = appended.pos
        await public_store.adjust_counts(tx.conn, row.public_account_id, articles=1)
    await store.update_article(tx.conn, row.id, **values)
    await indexing.index_article(tx.conn, row.id, values.get("title", row.title), text)
    return values


async def take_down(tx: WriteTx, row: Record) -> None:
    """Unpublish a live article: out of feeds, lists, pages and search; revisions stay."""
    await store.update_article(
        tx.conn,
        row.id,
        status=ArticleStatus.UNPUBLISHED.value,
        feed_pos=None,
        updated_at=tx.now_ms,
    )
    await public_store.adjust_counts(tx.conn, row.public_account_id, articles=-1)
    await indexing.unindex_article(tx.conn, row.id)


def _fields(row: Record) -> dict[str, Any]:
    return {key: row._mapping[key] for key in ("title", "summary", "reading_minutes", "slug")}


class ArticlePublished(BaseModel):
    """The content of an ``article.published`` event (published in docs/api.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    article_id: str
    handle: str
    account_name: str
    slug: str
    url: str
    title: str
    summary: str
    author: str
    """Username of the publisher of this revision."""
    published_at: int
    """The signed publication time, ms since the epoch."""
    reading_minutes: int
    revision: int


def event_content(
    row: Record, values: dict[str, Any], author: str, public_url: str
) -> dict[str, Any]:
    """The ``article.published`` content for ``row`` (with its ``handle`` and
    ``account_name``) and the article ``values`` it is published with.

    Also what restores a redacted event (kabar.moderation.history), so a restored
    event has exactly the shape going live gives it.
    """
    return ArticlePublished(
        article_id=row.id,
        handle=row.handle,
        account_name=row.account_name,
        slug=values["slug"],
        url=f"{account_url(public_url, row.handle)}/{values['slug']}",
        title=values["title"],
        summary=values["summary"],
        author=author,
        published_at=values["published_at"],
        reading_minutes=values["reading_minutes"],
        revision=values["revision"],
    ).model_dump()
