"""What a moderation target is: finding it, naming it, its owner, and changing its visibility.

A target is ``(type, id)``. :func:`resolve` reads it *regardless of removal*
(moderators must see what they act on) and gives its canonical id (an account
may be named by username, a public account by handle), the affected account,
a label and URL for notices, and a snapshot of its content as reported.

:func:`set_removed` and :func:`set_label` are the only writes moderation makes to
content tables. Removal only sets ``removed_at``: the store's read queries
(kabar.store.articles, public, engagement, media) leave removed rows out, so the
content vanishes from the API, pages, feeds and search (media: from ``/media/…``)
at once, and clearing the column restores it exactly. Media are never reported by
users; hash-list matches make them targets (:func:`media_target`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from kabar.errors import ErrorCode, InvalidRequest, NotFound
from kabar.moderation.models import ResolvedTarget, Target, TargetType
from kabar.public.models import account_url
from kabar.store.schema import accounts, articles, comments, media, public_accounts
from kabar.store.threaded import Executor

REPORTABLE = (
    TargetType.ARTICLE,
    TargetType.COMMENT,
    TargetType.PUBLIC_ACCOUNT,
    TargetType.ACCOUNT,
)
LABELLABLE = (TargetType.ARTICLE, TargetType.PUBLIC_ACCOUNT)

_TABLES: dict[TargetType, Any] = {
    TargetType.ARTICLE: articles,
    TargetType.COMMENT: comments,
    TargetType.PUBLIC_ACCOUNT: public_accounts,
    TargetType.MEDIA: media,
}


def parse_target(type_: str, target_id: str, *, reportable: bool = True) -> Target:
    try:
        kind = TargetType(type_)
    except ValueError:
        kind = None
    allowed = REPORTABLE if reportable else tuple(TargetType)
    if kind is None or kind not in allowed:
        names = ", ".join(t.value for t in allowed)
        raise InvalidRequest(
            f"a target type is one of {names}, got {type_!r}", code=ErrorCode.INVALID_TARGET
        )
    if not target_id or len(target_id) > 64:
        raise InvalidRequest("a target id is 1 to 64 characters", code=ErrorCode.INVALID_TARGET)
    return Target(kind, target_id.strip().lstrip("@"))


def not_found() -> NotFound:
    return NotFound("nothing to report with that type and id", code=ErrorCode.TARGET_NOT_FOUND)


async def resolve(
    conn: Executor, target: Target, public_url: str, *, visible_only: bool = False
) -> ResolvedTarget:
    """The target as moderation sees it; ``visible_only`` refuses removed or unpublished ones."""
    if target.type is TargetType.ARTICLE:
        return await _article(conn, target.id, public_url, visible_only)
    if target.type is TargetType.COMMENT:
        return await _comment(conn, target.id, public_url, visible_only)
    if target.type is TargetType.PUBLIC_ACCOUNT:
        return await _public_account(conn, target.id, public_url, visible_only)
    if target.type is TargetType.ACCOUNT:
        return await _account(conn, target.id)
    # Message cases are opened by the franked-report service with message_target(); a
    # message can never be looked up by id here (the server cannot read chats).
    raise not_found()


async def _article(conn: Executor, ref: str, public_url: str, visible: bool) -> ResolvedTarget:
    query = (
        select(articles, public_accounts.c.handle, public_accounts.c.removed_at.label("acct_rm"))
        .join(public_accounts, public_accounts.c.id == articles.c.public_account_id)
        .where(articles.c.id == ref)
    )
    row = (await conn.execute(query)).first()
    if row is None or (visible and (row.status != "published" or row.removed_at or row.acct_rm)):
        raise not_found()
    url = f"{account_url(public_url, row.handle)}/{row.slug}"
    content = {"title": row.title, "markdown": row.markdown, "revision": row.revision}
    return ResolvedTarget(
        TargetType.ARTICLE, row.id, row.author_id or row.created_by, row.title, url, content
    )


async def _comment(conn: Executor, ref: str, public_url: str, visible: bool) -> ResolvedTarget:
    query = (
        select(
            comments,
            articles.c.title,
            articles.c.slug,
            public_accounts.c.handle,
            accounts.c.username,
        )
        .join(articles, articles.c.id == comments.c.article_id)
        .join(public_accounts, public_accounts.c.id == articles.c.public_account_id)
        .join(accounts, accounts.c.id == comments.c.account_id)
        .where(comments.c.id == ref)
    )
    row = (await conn.execute(query)).first()
    if row is None or (visible and row.removed_at):
        raise not_found()
    url = f"{account_url(public_url, row.handle)}/{row.slug}"
    content = {"body": row.body, "author": row.username, "article_id": row.article_id}
    label = f"comment by @{row.username} on “{row.title}”"
    return ResolvedTarget(TargetType.COMMENT, row.id, row.account_id, label, url, content)


async def _public_account(
    conn: Executor, ref: str, public_url: str, visible: bool
) -> ResolvedTarget:
    if ref.startswith("p_"):
        condition = public_accounts.c.id == ref
    else:
        condition = public_accounts.c.handle == ref.casefold()
    row = (await conn.execute(select(public_accounts).where(condition))).first()
    if row is None or (visible and row.removed_at):
        raise not_found()
    content = {"handle": row.handle, "name": row.name, "bio": row.bio, "kind": row.kind}
    return ResolvedTarget(
        TargetType.PUBLIC_ACCOUNT,
        row.id,
        row.created_by,
        f"@{row.handle}",
        account_url(public_url, row.handle),
        content,
    )


async def _account(conn: Executor, ref: str) -> ResolvedTarget:
    column = accounts.c.id if ref.startswith("a_") else accounts.c.username
    value = ref if column is accounts.c.id else ref.casefold()
    row = (await conn.execute(select(accounts).where(column == value))).first()
    if row is None or row.status == "deactivated":
        raise not_found()
    content = {"username": row.username, "display_name": row.display_name}
    return ResolvedTarget(TargetType.ACCOUNT, row.id, row.id, f"@{row.username}", None, content)


async def media_target(conn: Executor, media_id: str, note: dict[str, Any]) -> ResolvedTarget:
    """An uploaded image, as a hash-list match reports it."""
    row = (await conn.execute(select(media).where(media.c.id == media_id))).first()
    if row is None:
        raise not_found()
    content = {"name": row.name, "mime": row.mime, **note}
    return ResolvedTarget(
        TargetType.MEDIA, row.id, row.account_id, "an uploaded image", None, content
    )


def message_target(
    event_id: str, sender_account: str, message: str, conversation_id: str
) -> ResolvedTarget:
    content = {"message": message, "conversation_id": conversation_id}
    return ResolvedTarget(
        TargetType.MESSAGE, event_id, sender_account, "a chat message", None, content
    )


async def set_removed(conn: Executor, type_: TargetType, target_id: str, when: int | None) -> None:
    """Hide (``when`` = now) or restore (``None``) a piece of content."""
    table = _TABLES.get(type_)
    if table is None:
        raise InvalidRequest(
            "only articles, comments, public accounts and media can be removed",
            code=ErrorCode.ACTION_NOT_ALLOWED,
        )
    await conn.execute(update(table).where(table.c.id == target_id).values(removed_at=when))


async def set_label(conn: Executor, type_: TargetType, target_id: str, label: str | None) -> None:
    if type_ not in LABELLABLE:
        raise InvalidRequest(
            "only articles and public accounts can be labelled", code=ErrorCode.ACTION_NOT_ALLOWED
        )
    table = _TABLES[type_]
    await conn.execute(update(table).where(table.c.id == target_id).values(label=label))
