"""Reading public accounts and articles on any kabar instance, without an account.

Everything here works anonymously (and from a :class:`kabar.client.public.PublicAccounts`
too, which adds what needs a signed-in device). An article can be named the way
people pass it around (:func:`locate`):

* an open-web page: ``https://news.example/@daily_news/budget-2025`` (also its
  ``/history`` page, ``?revision=3`` for one revision);
* the API: ``…/v1/public/accounts/daily_news/articles/budget-2025``,
  ``…/v1/public/articles/r_…`` and ``…/v1/public/articles/r_…/revisions/3``;
* ``@daily_news/budget-2025`` on a server you name.

:meth:`PublicReader.verify` checks a signature from the public data alone
(:mod:`kabar.client.authorship`); it cannot ask the key directory, which needs
an account on that server, so its key check is ``not_checked``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from kabar.client import authorship
from kabar.client.errors import InvalidReference
from kabar.client.http import HttpTransport
from kabar.client.public_api import PublicApi
from kabar.client.public_models import (
    Article,
    ArticlePage,
    KeyCheck,
    PublicAccount,
    Revision,
    SearchResults,
    Signature,
    Verification,
)

_PAGE = re.compile(r"^/@(?P<handle>[^/]+)/(?P<slug>[^/]+)(?:/history)?/?$")
_API_SLUG = re.compile(r"^/v1/public/accounts/(?P<handle>[^/]+)/articles/(?P<slug>[^/]+)/?$")
_API_ID = re.compile(r"^/v1/public/articles/(?P<id>[^/]+)(?:/revisions/(?P<revision>\d+))?/?$")
_SHORT = re.compile(r"^@?(?P<handle>[A-Za-z0-9_]+)/(?P<slug>[^/\s]+)$")


def normalize_handle(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


@dataclass(frozen=True, slots=True)
class ArticleLocation:
    """Where an article is: a server and either a handle and slug or an article id."""

    server: str
    handle: str | None = None
    slug: str | None = None
    article_id: str | None = None
    revision: int | None = None  # one revision rather than the article as it is now


def locate(reference: str, server: str | None = None) -> ArticleLocation:
    """Parse an article URL, or ``@handle/slug`` on ``server``."""
    text = reference.strip()
    if text.startswith(("http://", "https://")):
        return _from_url(text)
    found = _SHORT.match(text)
    if found is None:
        raise InvalidReference(f"{reference!r} is not an article URL or @handle/slug")
    if server is None:
        raise InvalidReference(f"{reference!r} needs a server: give the article's full URL")
    return ArticleLocation(
        server.rstrip("/"), normalize_handle(found["handle"]), unquote(found["slug"])
    )


def _from_url(url: str) -> ArticleLocation:
    parts = urlsplit(url)
    if not parts.netloc:
        raise InvalidReference(f"{url!r} has no host")
    server = f"{parts.scheme}://{parts.netloc}"
    revisions = parse_qs(parts.query).get("revision", [])
    revision = int(revisions[0]) if revisions and revisions[0].isdigit() else None
    for pattern in (_PAGE, _API_SLUG):
        found = pattern.match(parts.path)
        if found:
            handle, slug = normalize_handle(unquote(found["handle"])), unquote(found["slug"])
            return ArticleLocation(server, handle, slug, revision=revision)
    found = _API_ID.match(parts.path)
    if found:
        number = int(found["revision"]) if found["revision"] else revision
        return ArticleLocation(server, article_id=unquote(found["id"]), revision=number)
    raise InvalidReference(f"{url} is not a kabar article (…/@handle/slug)")


class PublicReader:
    """Public accounts and articles of one server, read without signing in."""

    def __init__(self, api: PublicApi) -> None:
        self.api = api

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, server_url: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> AsyncIterator[PublicReader]:
        """A reader for ``server_url`` with its own connection, closed on exit."""
        http = HttpTransport(server_url, transport=transport)
        try:
            yield cls(PublicApi(http))
        finally:
            await http.aclose()

    @property
    def server_url(self) -> str:
        return self.api.base_url

    async def account(self, handle: str) -> PublicAccount:
        return PublicAccount.from_json(await self.api.account(normalize_handle(handle)))

    async def articles(
        self, handle: str, cursor: str | None = None, limit: int = 20
    ) -> ArticlePage:
        """An account's published articles, newest first."""
        body = await self.api.articles(normalize_handle(handle), cursor, limit)
        return ArticlePage.from_json(body)

    async def article(self, handle: str, slug: str) -> Article:
        """One article with its Markdown and signature (reading it counts a view)."""
        return Article.from_json(await self.api.article_by_slug(normalize_handle(handle), slug))

    async def article_by_id(self, article_id: str) -> Article:
        return Article.from_json(await self.api.article(article_id))

    async def revisions(self, article_id: str) -> list[Revision]:
        """The public revision history, newest first (without the text)."""
        return [Revision.from_json(r) for r in await self.api.revisions(article_id)]

    async def revision(self, article_id: str, number: int) -> Revision:
        """One revision with its Markdown exactly as signed."""
        return Revision.from_json(await self.api.revision(article_id, number))

    async def search(self, words: str, limit: int = 20) -> SearchResults:
        """Public accounts and published articles matching ``words``."""
        return SearchResults.from_json(await self.api.search(words, limit))

    async def fetch(self, location: ArticleLocation) -> Article | Revision:
        """The article (or the one revision) a location names, from this reader's server."""
        if location.article_id is not None:
            if location.revision is not None:
                return await self.revision(location.article_id, location.revision)
            return await self.article_by_id(location.article_id)
        if location.handle is None or location.slug is None:
            raise InvalidReference("an article needs a handle and slug, or an id")
        article = await self.article(location.handle, location.slug)
        if location.revision is not None:
            return await self.revision(article.id, location.revision)
        return article

    async def verify_location(self, location: ArticleLocation) -> Verification:
        """Fetch what ``location`` names and check its signature."""
        item = await self.fetch(location)
        return await self.verify(item, handle=location.handle, slug=location.slug)

    async def verify(
        self, item: Article | Revision, *, handle: str | None = None, slug: str | None = None
    ) -> Verification:
        """Check ``item``'s signature over exactly what it shows (and that it is the
        article asked for: ``handle``/``slug``), then ask the key directory if we can."""
        shown = authorship.Signed(
            handle=item.handle,
            slug=item.slug,
            title=item.title,
            markdown=item.markdown,
            revision=item.revision,
            signature=item.signature,
        )
        signature_valid, problems = authorship.check(shown, handle=handle, slug=slug)
        key, key_problems = await self._check_key(item.signature)
        problems += key_problems
        return Verification(
            ok=not problems,
            signature_valid=signature_valid,
            key=key,
            problems=tuple(problems),
            server=self.server_url,
            handle=item.handle,
            slug=item.slug,
            title=item.title,
            revision=item.revision,
            signature=item.signature,
            article_id=item.id if isinstance(item, Article) else item.article_id,
            url=item.url if isinstance(item, Article) else "",
        )

    async def _check_key(self, signature: Signature | None) -> tuple[KeyCheck, list[str]]:
        """What the key directory says about the signing key (not available anonymously)."""
        return KeyCheck.NOT_CHECKED, []
