"""The event-stream history of removed content: redacting it, and restoring it.

When an article goes live, its public account's feed channel gets an
``article.published`` event with its title, summary and URL; devices replaying
their sync (or a WebSocket catch-up) from before a removal would read it again.
So removing an article — or a whole public account, which takes its articles
with it — rewrites the stored content of those events, in the removal's own
transaction, to ``{"article_id": …, "removed": true}``. Like a chat message
deleted for everyone (kabar.conversations.deletion), the event row and its
position stay: the stream is gapless and never loses a row; only its content goes.

A granted appeal restores the content, rebuilt from the article row exactly as
going live builds it (kabar.public.publishing.event_content) — so it shows the
article as it is now. An event stays redacted while its article is still
removed some other way (on its own, or with its account), or no longer exists.

A frame already sent live cannot be recalled: devices that received the event
before the removal keep what they were shown (the article itself answers 404).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from kabar.delivery import events as ev
from kabar.moderation.models import TargetType
from kabar.public.publishing import event_content
from kabar.store import articles as article_store
from kabar.store import events as event_store
from kabar.store.schema import articles
from kabar.store.threaded import Executor

REMOVED = "removed"


def redacted(article_id: str) -> dict[str, Any]:
    """The stored content of an ``article.published`` event whose article was removed."""
    return {"article_id": article_id, REMOVED: True}


async def redact(conn: Executor, kind: TargetType, target_id: str) -> None:
    """Redact the ``article.published`` events of a removed article or public account."""
    feed_id, only = await _feed_of(conn, kind, target_id)
    if feed_id is None:
        return
    for row in await event_store.feed_events(conn, feed_id, ev.ARTICLE_PUBLISHED):
        content = json.loads(row.content)
        article_id = str(content.get("article_id", ""))
        if content.get(REMOVED) or (only is not None and article_id != only):
            continue
        await event_store.replace_content(conn, row.pos, ev.dumps(redacted(article_id)))


async def restore(conn: Executor, kind: TargetType, target_id: str, public_url: str) -> None:
    """Rebuild the events :func:`redact` emptied, for articles that are visible again."""
    feed_id, only = await _feed_of(conn, kind, target_id)
    if feed_id is None:
        return
    rebuilt: dict[str, dict[str, Any] | None] = {}
    for row in await event_store.feed_events(conn, feed_id, ev.ARTICLE_PUBLISHED):
        content = json.loads(row.content)
        article_id = str(content.get("article_id", ""))
        if not content.get(REMOVED) or (only is not None and article_id != only):
            continue
        if article_id not in rebuilt:
            rebuilt[article_id] = await _current(conn, article_id, public_url)
        fresh = rebuilt[article_id]
        if fresh is not None:
            await event_store.replace_content(conn, row.pos, ev.dumps(fresh))


async def _feed_of(
    conn: Executor, kind: TargetType, target_id: str
) -> tuple[str | None, str | None]:
    """The feed channel whose events a removal touches, and the one article (if any)."""
    if kind is TargetType.PUBLIC_ACCOUNT:
        return target_id, None
    if kind is TargetType.ARTICLE:
        query = select(articles.c.public_account_id).where(articles.c.id == target_id)
        feed_id = (await conn.execute(query)).scalar()
        return (str(feed_id), target_id) if feed_id is not None else (None, None)
    return None, None


async def _current(conn: Executor, article_id: str, public_url: str) -> dict[str, Any] | None:
    """The event content going live would give the article now (None: not visible)."""
    row = await article_store.by_id(conn, article_id, full=False)
    if row is None or row.published_at is None:
        return None
    revision = await article_store.revision(conn, article_id, row.revision)
    author = revision.username if revision is not None else row.author_username
    values = {
        key: row._mapping[key]
        for key in ("title", "summary", "reading_minutes", "slug", "published_at", "revision")
    }
    return event_content(row, values, str(author or ""), public_url)
