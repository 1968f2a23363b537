"""Comments on published articles, which the account's owners and editors may hide.

A hidden comment stays in its place, shown as hidden (with when), so readers
see that the publisher removed something rather than being silently edited.
Members of the account still see its text (to reconsider: ``unhide``); no one
else does. Comments are plain text with a length limit, rate-limited per account.
"""

from __future__ import annotations

from dataclasses import dataclass

from kabar.accounts.models import Principal
from kabar.accounts.ratelimit import RateLimiter
from kabar.config import Config
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import ErrorCode, NotFound
from kabar.ids import decode_cursor, encode_cursor, looks_like_id, new_id
from kabar.moderation.restrictions import check_publishing
from kabar.public.models import ArticleStatus, Page, Person
from kabar.public.permissions import article_not_found, is_editor, require_editor
from kabar.public.text import checked_text
from kabar.store import accounts as account_store
from kabar.store import articles as article_store
from kabar.store import engagement as store
from kabar.store import public as public_store
from kabar.store.database import Database
from kabar.store.rows import Record


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    article_id: str
    author: Person
    body: str | None
    """``None`` when hidden and the reader is not a member of the account."""
    created_at: int
    hidden: bool
    hidden_at: int | None


def _not_found() -> NotFound:
    return NotFound("no such comment", code=ErrorCode.COMMENT_NOT_FOUND)


class CommentService:
    def __init__(
        self, database: Database, writer: Writer, limiter: RateLimiter, config: Config
    ) -> None:
        self._db = database
        self._writer = writer
        self._limiter = limiter
        self._config = config

    async def add(self, principal: Principal, article_id: str, body: str) -> Comment:
        await self._limiter.hit(
            "comment", principal.account_id, self._config.rate_limits.comment_per_account
        )
        text = checked_text(
            body, field="body", min_chars=1, max_chars=self._config.limits.comment_max_chars
        )
        if not looks_like_id(article_id, "r"):
            raise article_not_found()
        comment_id = new_id("n")

        async def job(tx: WriteTx) -> Comment:
            await check_publishing(tx.conn, principal.account_id, tx.now_ms)
            row = await article_store.by_id(tx.conn, article_id, full=False)
            if row is None or row.status != ArticleStatus.PUBLISHED:
                raise article_not_found()
            await store.insert_comment(
                tx.conn,
                id=comment_id,
                article_id=article_id,
                account_id=principal.account_id,
                body=text,
                created_at=tx.now_ms,
            )
            account = await account_store.account_by_id(tx.conn, principal.account_id)
            name = account.display_name if account is not None else ""
            author = Person(principal.username, name or principal.username)
            return Comment(comment_id, article_id, author, text, tx.now_ms, False, None)

        comment: Comment = await self._writer.run(job)
        return comment

    async def page(
        self,
        article_id: str,
        viewer: Principal | None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Comment]:
        """Comments in the order they were written (oldest first)."""
        limit = max(1, min(limit, self._config.limits.public_page_max))
        after = decode_cursor(cursor, int, str)
        if not looks_like_id(article_id, "r"):
            raise article_not_found()
        async with self._db.read() as conn:
            row = await article_store.by_id(conn, article_id, full=False)
            if row is None:
                raise article_not_found()
            role = None
            if viewer is not None:
                role = await public_store.member_role(
                    conn, row.public_account_id, viewer.account_id
                )
            if row.status != ArticleStatus.PUBLISHED and not is_editor(role):
                raise article_not_found()
            rows = await store.comments_of(
                conn, article_id, (after[0], after[1]) if after else None, limit + 1
            )
        shown = rows[:limit]
        comments = [_comment(r, reveal=is_editor(role)) for r in shown]
        more = len(rows) > limit
        return Page(comments, encode_cursor(shown[-1].created_at, shown[-1].id) if more else None)

    async def set_hidden(self, principal: Principal, comment_id: str, hidden: bool) -> None:
        """Hide or unhide a comment (the account's owners and editors only)."""
        if not looks_like_id(comment_id, "n"):
            raise _not_found()

        async def job(tx: WriteTx) -> None:
            comment = await store.comment(tx.conn, comment_id)
            if comment is None:
                raise _not_found()
            row = await article_store.by_id(tx.conn, comment.article_id, full=False)
            assert row is not None
            role = await public_store.member_role(
                tx.conn, row.public_account_id, principal.account_id
            )
            if row.status != ArticleStatus.PUBLISHED and not is_editor(role):
                raise _not_found()
            require_editor(role)
            if hidden and comment.hidden_at is None:
                await store.set_hidden(tx.conn, comment_id, tx.now_ms, principal.account_id)
            elif not hidden and comment.hidden_at is not None:
                await store.set_hidden(tx.conn, comment_id, None, None)

        await self._writer.run(job)


def _comment(row: Record, *, reveal: bool) -> Comment:
    hidden = row.hidden_at is not None
    return Comment(
        id=row.id,
        article_id=row.article_id,
        author=Person(row.username, row.display_name or row.username),
        body=row.body if reveal or not hidden else None,
        created_at=row.created_at,
        hidden=hidden,
        hidden_at=row.hidden_at,
    )
