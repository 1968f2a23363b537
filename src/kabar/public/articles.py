"""Writing articles: drafts, signed publishing (now or scheduled), edits, unpublishing.

An article starts as a **draft** (a working copy only its account's members see).
Publishing sends the exact title and Markdown with the revision number, the
signed time and the device's Ed25519 signature over the canonical revision
(:mod:`kabar.public.canonical`); the server checks the signature against the
device's published identity key before storing anything, and stores what was
signed unchanged. A signed time in the future **schedules** the first
publication (the scheduler publishes it then, across restarts); otherwise the
revision goes live at once. Publishing revision *n + 1* of a live article is
an **edit**: the old revision stays in the public history and the article is
marked edited. The revision number is also the concurrency check — two
editors cannot both publish revision 3 (409 ``revision_conflict``).

Rendering runs on worker threads and is rate-limited per account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kabar.accounts.models import Principal
from kabar.accounts.ratelimit import RateLimiter
from kabar.config import Config
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import Conflict, ErrorCode, InvalidRequest
from kabar.ids import looks_like_id, new_id
from kabar.moderation.restrictions import check_publishing
from kabar.public import indexing, publishing
from kabar.public.accounts import account_row
from kabar.public.canonical import ArticleRevision, verify_revision
from kabar.public.models import Article, ArticleStatus
from kabar.public.permissions import article_not_found, require_article_editor, require_editor
from kabar.public.reading import full_article
from kabar.public.render import RenderedArticle, render_article
from kabar.public.slugs import slugify, unique_slug, validate_slug
from kabar.public.text import checked_text, storable
from kabar.store import accounts as account_store
from kabar.store import articles as store
from kabar.store import public as public_store
from kabar.store.database import Database
from kabar.store.rows import Record
from kabar.store.threaded import Executor
from kabar.workers import Workers

TITLE_MAX = 300
# How far a signed publication time may be from the server's clock (devices' clocks drift).
CLOCK_SKEW_MS = 10 * 60 * 1000
# A first publication signed later than this ahead of the server's clock is scheduled.
SCHEDULE_MARGIN_MS = 1000


@dataclass(frozen=True, slots=True)
class SignedRevision:
    """What a device publishes: the exact signed fields, and its signature over them."""

    title: str
    markdown: str
    revision: int
    published_at: datetime
    signature: str


@dataclass(frozen=True, slots=True)
class _Rendered:
    article: RenderedArticle
    text: str

    def columns(self, title: str, markdown: str) -> dict[str, object]:
        return {
            "title": title,
            "markdown": markdown,
            "html": self.article.html,
            "summary": self.article.summary,
            "word_count": self.article.word_count,
            "reading_minutes": self.article.reading_minutes,
            "image": self.article.images[0] if self.article.images else None,
        }


def _render(markdown: str) -> _Rendered:
    article = render_article(markdown)
    return _Rendered(article, indexing.article_text(article.html))


def _slug_error(exc: InvalidRequest) -> InvalidRequest:
    return InvalidRequest(exc.detail, code=ErrorCode.INVALID_SLUG, data={"field": "slug"})


class ArticleService:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        workers: Workers,
        limiter: RateLimiter,
        config: Config,
    ) -> None:
        self._db = database
        self._writer = writer
        self._workers = workers
        self._limiter = limiter
        self._config = config
        self._url = config.server.public_url

    async def _rendered(self, principal: Principal, markdown: str) -> _Rendered:
        await self._limiter.hit(
            "publish", principal.account_id, self._config.rate_limits.publish_per_account
        )
        return await self._workers.run(_render, storable(markdown, field="markdown"))

    def _title(self, given: str | None, rendered: _Rendered) -> str:
        title = given if given is not None else rendered.article.title
        if title is None:
            raise InvalidRequest(
                "an article needs a title: start it with '# Title' or give one",
                code=ErrorCode.INVALID_REQUEST,
                data={"field": "title"},
            )
        return checked_text(
            title, field="title", min_chars=1, max_chars=TITLE_MAX, single_line=True
        )

    async def create(
        self,
        principal: Principal,
        handle: str,
        markdown: str,
        *,
        title: str | None = None,
        slug: str | None = None,
    ) -> str:
        """Save a new draft; returns its id."""
        if slug is not None:
            try:
                slug = validate_slug(slug)
            except InvalidRequest as exc:
                raise _slug_error(exc) from None
        rendered = await self._rendered(principal, markdown)
        title = self._title(title, rendered)
        article_id = new_id("r")

        async def job(tx: WriteTx) -> None:
            account = await account_row(tx.conn, handle)
            require_editor(
                await public_store.member_role(tx.conn, account.id, principal.account_id)
            )
            chosen = await _free_slug(tx, account.id, slug, title)
            await store.insert_article(
                tx.conn,
                id=article_id,
                public_account_id=account.id,
                slug=chosen,
                status=ArticleStatus.DRAFT.value,
                revision=0,
                created_by=principal.account_id,
                created_at=tx.now_ms,
                updated_at=tx.now_ms,
                view_count=0,
                comment_count=0,
                **rendered.columns(title, markdown),
            )

        await self._writer.run(job)
        return article_id

    async def update_draft(
        self,
        principal: Principal,
        article_id: str,
        *,
        markdown: str | None = None,
        title: str | None = None,
        slug: str | None = None,
    ) -> None:
        """Change the working copy of an article that is not public (draft or unpublished)."""
        if slug is not None:
            try:
                slug = validate_slug(slug)
            except InvalidRequest as exc:
                raise _slug_error(exc) from None
        current = await self._editable(principal, article_id)
        text = markdown if markdown is not None else current.markdown
        rendered = await self._rendered(principal, text)
        if title is None:  # a new first heading renames the draft, as it named it
            heading = rendered.article.title if markdown is not None else None
            title = heading or current.title
        new_title = self._title(title, rendered)

        async def job(tx: WriteTx) -> None:
            row = await _row_for_editor(tx.conn, principal, article_id)
            if row.status not in (ArticleStatus.DRAFT, ArticleStatus.UNPUBLISHED):
                raise _state("only drafts and unpublished articles can be saved as drafts")
            values = {**rendered.columns(new_title, text), "updated_at": tx.now_ms}
            if slug is not None and slug != row.slug:
                if row.revision > 0:
                    raise _state("a published article keeps its address (slug)")
                values["slug"] = await _free_slug(tx, row.public_account_id, slug, new_title)
            await store.update_article(tx.conn, article_id, **values)

        await self._writer.run(job)

    async def publish(
        self,
        principal: Principal,
        article_id: str,
        signed: SignedRevision,
        *,
        allow_backdated: bool = False,
    ) -> Article:
        """Publish (or schedule) a signed revision; see the module docstring.

        Returns the article as it now is, read in the publishing transaction: after a
        commit that wakes thousands of subscribers' sockets, a second read would wait
        behind all of them. ``allow_backdated`` accepts signed times in the past
        (importing old articles, the demo seed); the HTTP API never sets it.
        """
        markdown = storable(signed.markdown, field="markdown")
        title = checked_text(
            signed.title, field="title", min_chars=1, max_chars=TITLE_MAX, single_line=True
        )
        if title != signed.title:
            raise InvalidRequest("title has surrounding whitespace", code=ErrorCode.INVALID_REQUEST)
        signed_at = _whole_seconds_ms(signed.published_at)
        current = await self._editable(principal, article_id)
        ed25519 = await self._device_key(principal)
        revision = ArticleRevision(
            handle=current.handle,
            slug=current.slug,
            title=title,
            markdown=markdown,
            revision=signed.revision,
            published_at=datetime.fromtimestamp(signed_at // 1000, UTC),
            device_id=principal.device_id,
            account=principal.username,
        )
        if not verify_revision(revision, ed25519_key=ed25519, signature=signed.signature):
            raise InvalidRequest(
                "the signature does not match this revision and this device's Ed25519 key",
                code=ErrorCode.INVALID_SIGNATURE,
            )
        rendered = await self._rendered(principal, markdown)

        async def job(tx: WriteTx) -> Article:
            await check_publishing(tx.conn, principal.account_id, tx.now_ms)
            row = await _row_for_editor(tx.conn, principal, article_id)
            if row.status == ArticleStatus.SCHEDULED:
                raise _state("this article is scheduled; unpublish it to cancel, then publish")
            if signed.revision != row.revision + 1 or row.slug != current.slug:
                raise Conflict(
                    f"the next revision of this article is {row.revision + 1}",
                    code=ErrorCode.REVISION_CONFLICT,
                    data={"revision": row.revision},
                )
            scheduled = _check_time(signed_at, tx.now_ms, row.status, allow_backdated)
            await store.insert_revision(
                tx.conn,
                article_id=article_id,
                revision=signed.revision,
                handle=row.handle,
                slug=row.slug,
                title=title,
                markdown=markdown,
                published_at=signed_at,
                account_id=principal.account_id,
                username=principal.username,
                device_id=principal.device_id,
                ed25519=ed25519,
                signature=signed.signature,
                created_at=tx.now_ms,
            )
            content = rendered.columns(title, markdown)
            if scheduled:
                await store.update_article(
                    tx.conn,
                    article_id,
                    **content,
                    status=ArticleStatus.SCHEDULED.value,
                    revision=signed.revision,
                    scheduled_at=signed_at,
                    updated_at=tx.now_ms,
                )
            else:
                await publishing.go_live(
                    tx,
                    row,
                    revision=signed.revision,
                    author=(principal.account_id, principal.username),
                    signed_at=signed_at,
                    text=rendered.text,
                    public_url=self._url,
                    content=content,
                )
            updated = await store.by_id(tx.conn, article_id)
            assert updated is not None
            return await full_article(tx.conn, updated, principal, self._url)

        article: Article = await self._writer.run(job)
        return article

    async def unpublish(self, principal: Principal, article_id: str) -> None:
        """Take a live article down, or cancel a scheduled publication."""

        async def job(tx: WriteTx) -> None:
            row = await _row_for_editor(tx.conn, principal, article_id)
            if row.status == ArticleStatus.PUBLISHED:
                await publishing.take_down(tx, row)
            elif row.status == ArticleStatus.SCHEDULED:
                await store.delete_revision(tx.conn, article_id, row.revision)
                previous = row.revision - 1
                await store.update_article(
                    tx.conn,
                    article_id,
                    status=(ArticleStatus.UNPUBLISHED if previous else ArticleStatus.DRAFT).value,
                    revision=previous,
                    scheduled_at=None,
                    updated_at=tx.now_ms,
                )
            else:
                raise _state("this article is not published")

        await self._writer.run(job)

    async def delete(self, principal: Principal, article_id: str) -> None:
        """Delete a draft that was never published (published articles are unpublished)."""

        async def job(tx: WriteTx) -> None:
            row = await _row_for_editor(tx.conn, principal, article_id)
            if row.status != ArticleStatus.DRAFT or row.revision:
                raise _state("only drafts that were never published can be deleted")
            await store.delete_article(tx.conn, article_id)

        await self._writer.run(job)

    async def _editable(self, principal: Principal, article_id: str) -> Record:
        async with self._db.read() as conn:
            return await _row_for_editor(conn, principal, article_id)

    async def _device_key(self, principal: Principal) -> str:
        async with self._db.read() as conn:
            device = await account_store.device(conn, principal.device_id)
        if device is None or device.ed25519 is None:
            raise Conflict(
                "publish this device's identity keys (PUT /v1/keys/identity) before signing",
                code=ErrorCode.IDENTITY_KEYS_MISSING,
            )
        return str(device.ed25519)


async def _row_for_editor(conn: Executor, principal: Principal, article_id: str) -> Record:
    """The article, if ``principal`` may edit it (404 if private to others, else 403)."""
    if not looks_like_id(article_id, "r"):
        raise article_not_found()
    row = await store.by_id(conn, article_id)
    if row is None:
        raise article_not_found()
    role = await public_store.member_role(conn, row.public_account_id, principal.account_id)
    require_article_editor(row.status, role)
    return row


async def _free_slug(tx: WriteTx, public_account_id: str, wanted: str | None, title: str) -> str:
    if wanted is not None:
        if await store.slugs_like(tx.conn, public_account_id, wanted) >= {wanted}:
            raise Conflict("that slug is taken on this account", code=ErrorCode.SLUG_TAKEN)
        return wanted
    base = slugify(title)
    taken = await store.slugs_like(tx.conn, public_account_id, base)
    return unique_slug(base, taken.__contains__)


def _check_time(signed_at: int, now: int, status: str, allow_backdated: bool) -> bool:
    """Whether this publication is scheduled; refuses times it cannot honour.

    A first publication signed for later than now is scheduled (so a published time is
    never in the future); an edit takes effect at once and must be signed about now.
    """
    if status == ArticleStatus.PUBLISHED:
        if signed_at > now + CLOCK_SKEW_MS:
            raise InvalidRequest(
                "an edit takes effect now: sign it with the current time",
                code=ErrorCode.INVALID_PUBLISH_TIME,
            )
    elif signed_at > now + SCHEDULE_MARGIN_MS:
        return True
    if signed_at < now - CLOCK_SKEW_MS and not allow_backdated:
        raise InvalidRequest(
            "published_at is too far in the past: sign with the current time",
            code=ErrorCode.INVALID_PUBLISH_TIME,
        )
    return False


def _whole_seconds_ms(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidRequest("published_at needs a time zone", code=ErrorCode.INVALID_PUBLISH_TIME)
    return int(moment.timestamp()) * 1000


def _state(detail: str) -> Conflict:
    return Conflict(detail, code=ErrorCode.ARTICLE_STATE)
