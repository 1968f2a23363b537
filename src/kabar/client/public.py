"""Public accounts for a signed-in device: ``session.public`` (DESIGN §5).

:class:`PublicAccounts` reads everything :class:`~kabar.client.public_reader.PublicReader`
reads, and adds what needs an account:

* **accounts** — :meth:`~PublicAccounts.create`, :meth:`~PublicAccounts.update`,
  :meth:`~PublicAccounts.mine`, members and their roles;
* **writing** — :meth:`~PublicAccounts.publish` turns Markdown into a new article
  or the next revision of an existing one (``slug=``), as a draft, now, or
  scheduled (``at=`` in the future); every revision is signed by this device's
  Ed25519 identity key exactly as the server verifies it
  (:mod:`kabar.client.authorship`); :meth:`~PublicAccounts.unpublish`,
  :meth:`~PublicAccounts.drafts`, :meth:`~PublicAccounts.delete_draft`;
* **following** — :meth:`~PublicAccounts.subscribe` (notifications on: every new
  article arrives live as a :class:`~kabar.client.models.ArticlePublished` update
  from :meth:`Session.subscribe <kabar.client.session.Session.subscribe>`),
  :meth:`~PublicAccounts.unsubscribe`, :meth:`~PublicAccounts.feed` (cursor pages);
* **verifying** with the key directory: a signature checks out *and* the
  directory lists that key for the signing device (``verified`` if you compared
  safety numbers with it; ``mismatch`` — another key for that device — fails).

See ``docs/public-accounts.md`` (*From the SDK and the CLI*).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from kabar.client import authorship
from kabar.client.api import Api
from kabar.client.crypto.device import DeviceKeys
from kabar.client.crypto.errors import CryptoError
from kabar.client.engine import CryptoEngine
from kabar.client.errors import ApiError
from kabar.client.public_api import PublicApi
from kabar.client.public_models import (
    Article,
    ArticlePage,
    KeyCheck,
    Member,
    PublicAccount,
    PublicSubscription,
    Signature,
)
from kabar.client.public_reader import PublicReader, normalize_handle
from kabar.errors import KabarError
from kabar.public.models import Kind
from kabar.public.render import render_article

KINDS = tuple(kind.value for kind in Kind)  # shown as a label on the account


def utc_now() -> datetime:
    return datetime.now(UTC)


class PublicAccounts(PublicReader):
    def __init__(
        self,
        api: PublicApi,
        keys: Api,
        engine: CryptoEngine,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(api)
        self._keys = keys
        self._engine = engine
        self._clock = clock

    def now(self) -> datetime:
        """The clock revisions are signed with (UTC)."""
        return self._clock()

    # -- accounts and members -------------------------------------------------------

    async def create(
        self, handle: str, name: str, *, kind: str = "individual", bio: str = ""
    ) -> PublicAccount:
        """Open a public account; you become its first owner."""
        body = await self.api.create_account(normalize_handle(handle), name, kind, bio)
        return PublicAccount.from_json(body)

    async def update(
        self,
        handle: str,
        *,
        name: str | None = None,
        bio: str | None = None,
        kind: str | None = None,
    ) -> PublicAccount:
        """Edit the profile (owners)."""
        fields = {"name": name, "bio": bio, "kind": kind}
        changes = {k: v for k, v in fields.items() if v is not None}
        body = await self.api.update_account(normalize_handle(handle), changes)
        return PublicAccount.from_json(body)

    async def mine(self) -> list[PublicAccount]:
        """The public accounts you own or edit."""
        return [PublicAccount.from_json(a) for a in await self.api.memberships()]

    async def members(self, handle: str) -> list[Member]:
        return [Member.from_json(m) for m in await self.api.members(normalize_handle(handle))]

    async def add_member(self, handle: str, username: str, role: str = "editor") -> list[Member]:
        """Add an owner or editor, or change a member's role (owners)."""
        found = await self.api.put_member(normalize_handle(handle), username.lstrip("@"), role)
        return [Member.from_json(m) for m in found]

    async def remove_member(self, handle: str, username: str) -> None:
        """Remove a member (owners), or leave (yourself)."""
        await self.api.remove_member(normalize_handle(handle), username.lstrip("@"))

    # -- writing --------------------------------------------------------------------

    async def publish(
        self,
        handle: str,
        markdown: str,
        *,
        title: str | None = None,
        slug: str | None = None,
        at: datetime | None = None,
        draft: bool = False,
    ) -> Article:
        """Publish Markdown on ``handle``, signed by this device.

        Without ``slug`` it is a new article (title: ``title`` or the first ``# H1``;
        slug made from the title). With ``slug`` of an existing article it is that
        article's next revision (an edit), else a new article at that slug.
        ``draft`` only saves it; ``at`` in the future schedules a first publication.
        """
        handle = normalize_handle(handle)
        existing = await self._existing(handle, slug) if slug else None
        if existing is None:
            article = Article.from_json(await self.api.create_draft(handle, markdown, title, slug))
            if draft:
                return article
            return await self._sign_and_publish(article, markdown, article.title, at)
        if draft:
            changes = {"markdown": markdown, **({"title": title} if title else {})}
            return Article.from_json(await self.api.update_draft(existing.id, changes))
        title = title or await _first_heading(markdown) or existing.title
        return await self._sign_and_publish(existing, markdown, title, at)

    async def publish_draft(self, handle: str, slug: str, *, at: datetime | None = None) -> Article:
        """Publish (or schedule) a saved draft as it stands."""
        article = await self.article(handle, slug)
        return await self._sign_and_publish(article, article.markdown or "", article.title, at)

    async def _existing(self, handle: str, slug: str) -> Article | None:
        try:
            return await self.article(handle, slug)
        except ApiError as exc:
            if exc.code == "article_not_found":
                return None
            raise

    async def _sign_and_publish(
        self, article: Article, markdown: str, title: str, at: datetime | None
    ) -> Article:
        body = authorship.publish_body(
            self._engine.identity,
            handle=article.handle,
            slug=article.slug,
            title=title,
            markdown=markdown,
            revision=article.revision + 1,
            at=at or self._clock(),
        )
        return Article.from_json(await self.api.publish(article.id, body))

    async def unpublish(self, handle: str, slug: str) -> Article:
        """Take a published article down (its revisions stay), or cancel a scheduled one."""
        article = await self.article(handle, slug)
        return Article.from_json(await self.api.unpublish(article.id))

    async def drafts(self, handle: str) -> list[Article]:
        """Drafts, scheduled and unpublished articles (members only)."""
        return [Article.from_json(a) for a in await self.api.drafts(normalize_handle(handle))]

    async def delete_draft(self, handle: str, slug: str) -> None:
        """Delete a draft that was never published."""
        await self.api.delete_draft((await self.article(handle, slug)).id)

    # -- following ------------------------------------------------------------------

    async def subscribe(self, handle: str, *, notifications: bool = True) -> PublicSubscription:
        """Subscribe (or switch notifications): with them on, new articles arrive live."""
        body = await self.api.subscribe(normalize_handle(handle), notifications)
        return PublicSubscription.from_json(body)

    async def unsubscribe(self, handle: str) -> None:
        await self.api.unsubscribe(normalize_handle(handle))

    async def subscription(self, handle: str) -> PublicSubscription:
        return PublicSubscription.from_json(await self.api.subscription(normalize_handle(handle)))

    async def subscriptions(self) -> list[PublicSubscription]:
        return [PublicSubscription.from_json(s) for s in await self.api.subscriptions()]

    async def feed(self, cursor: str | None = None, limit: int = 20) -> ArticlePage:
        """Your subscriptions' articles, newest first; ``next_cursor`` pages on."""
        return ArticlePage.from_json(await self.api.feed(cursor, limit))

    # -- verifying ------------------------------------------------------------------

    async def _check_key(self, signature: Signature | None) -> tuple[KeyCheck, list[str]]:
        if signature is None:
            return KeyCheck.NOT_CHECKED, []
        account, device_id = signature.account, signature.device_id
        listed = await self._keys.query_keys([account])
        entry = next((e for e in listed.get(account, []) if e.get("device_id") == device_id), None)
        if entry is None:
            return KeyCheck.NOT_LISTED, []
        try:
            keys = DeviceKeys.from_upload(account, device_id, entry)
        except CryptoError:
            return KeyCheck.MISMATCH, [f"the key directory's entry for {device_id} is not signed"]
        if keys.ed25519 != signature.ed25519:
            return KeyCheck.MISMATCH, [
                f"the key directory lists another key for @{account}'s device {device_id}"
            ]
        directory = self._engine.directory
        known = directory.get(account, device_id)
        if known == keys and directory.is_verified(account, device_id):
            return KeyCheck.VERIFIED, []
        return KeyCheck.LISTED, []


async def _first_heading(markdown: str) -> str | None:
    """The title the server would take from ``markdown`` (its first ``# H1``), if any."""
    try:
        rendered = await asyncio.to_thread(render_article, markdown)
    except KabarError:  # too long, broken Unicode: the server will say so
        return None
    return rendered.title
