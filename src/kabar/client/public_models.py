"""What the SDK hands to applications about public accounts: accounts, articles, revisions,
feed pages, search results, subscriptions, members and signature checks.

Plain frozen dataclasses built from the server's JSON (``from_json``); the CLI
renders them and prints them with :func:`kabar.client.models.to_json`. The live
``article.published`` update is :class:`kabar.client.models.ArticlePublished`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class Verified:
    """An instance admin's verification of a public account (the ✓ badge)."""

    verified_at: int
    verified_by: str
    note: str


@dataclass(frozen=True, slots=True)
class PublicAccount:
    id: str
    handle: str
    name: str
    bio: str
    kind: str
    url: str
    avatar_url: str | None
    created_at: int
    subscriber_count: int
    article_count: int
    verification: Verified | None = None
    my_role: str | None = None  # "owner" or "editor" when you are a member

    @classmethod
    def from_json(cls, data: JsonObject) -> PublicAccount:
        verification = data.get("verification")
        return cls(
            id=str(data["id"]),
            handle=str(data["handle"]),
            name=str(data["name"]),
            bio=str(data.get("bio") or ""),
            kind=str(data["kind"]),
            url=str(data["url"]),
            avatar_url=data.get("avatar_url"),
            created_at=int(data["created_at"]),
            subscriber_count=int(data.get("subscriber_count", 0)),
            article_count=int(data.get("article_count", 0)),
            verification=Verified(**verification) if verification else None,
            my_role=data.get("my_role"),
        )


@dataclass(frozen=True, slots=True)
class Member:
    username: str
    display_name: str
    role: str
    added_at: int

    @classmethod
    def from_json(cls, data: JsonObject) -> Member:
        return cls(data["username"], data["display_name"], data["role"], int(data["added_at"]))


@dataclass(frozen=True, slots=True)
class Signature:
    """Who signed a revision, with which device key, and the signature (as the API shows)."""

    revision: int
    published_at: str  # exactly as signed: RFC 3339 UTC, whole seconds
    account: str  # the author's username
    device_id: str
    ed25519: str
    signature: str

    @classmethod
    def from_json(cls, data: JsonObject | None) -> Signature | None:
        if not data:
            return None
        return cls(
            revision=int(data["revision"]),
            published_at=str(data["published_at"]),
            account=str(data["account"]),
            device_id=str(data["device_id"]),
            ed25519=str(data["ed25519"]),
            signature=str(data["signature"]),
        )


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    handle: str
    account_name: str
    account_verified: bool
    slug: str
    url: str
    status: str  # draft, scheduled, published, unpublished
    title: str
    summary: str
    reading_minutes: int
    word_count: int
    revision: int  # the latest published (or scheduled) revision; 0 for a new draft
    created_at: int
    published_at: int | None
    edited_at: int | None
    scheduled_at: int | None
    byline: str | None  # username of the first publisher
    view_count: int
    comment_count: int
    markdown: str | None = None  # lists and feeds leave the text out
    html: str | None = None
    signature: Signature | None = None
    reactions: tuple[tuple[str, int], ...] = ()

    @property
    def reference(self) -> str:
        """``@handle/slug``: how the CLI names it."""
        return f"@{self.handle}/{self.slug}"

    @classmethod
    def from_json(cls, data: JsonObject) -> Article:
        byline = data.get("byline") or {}
        return cls(
            id=str(data["id"]),
            handle=str(data["handle"]),
            account_name=str(data.get("account_name", "")),
            account_verified=bool(data.get("account_verified", False)),
            slug=str(data["slug"]),
            url=str(data.get("url", "")),
            status=str(data["status"]),
            title=str(data["title"]),
            summary=str(data.get("summary", "")),
            reading_minutes=int(data.get("reading_minutes", 0)),
            word_count=int(data.get("word_count", 0)),
            revision=int(data.get("revision", 0)),
            created_at=int(data.get("created_at", 0)),
            published_at=_opt_int(data.get("published_at")),
            edited_at=_opt_int(data.get("edited_at")),
            scheduled_at=_opt_int(data.get("scheduled_at")),
            byline=byline.get("username"),
            view_count=int(data.get("view_count", 0)),
            comment_count=int(data.get("comment_count", 0)),
            markdown=data.get("markdown"),
            html=data.get("html"),
            signature=Signature.from_json(data.get("signature")),
            reactions=tuple(sorted((data.get("reactions") or {}).items())),
        )


@dataclass(frozen=True, slots=True)
class Revision:
    """One published revision, its Markdown exactly as signed."""

    article_id: str
    revision: int
    handle: str
    slug: str
    title: str
    published_at: str
    signature: Signature | None
    markdown: str | None = None
    html: str | None = None

    @classmethod
    def from_json(cls, data: JsonObject) -> Revision:
        return cls(
            article_id=str(data["article_id"]),
            revision=int(data["revision"]),
            handle=str(data["handle"]),
            slug=str(data["slug"]),
            title=str(data["title"]),
            published_at=str(data["published_at"]),
            signature=Signature.from_json(data.get("signature")),
            markdown=data.get("markdown"),
            html=data.get("html"),
        )


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """A page of articles, newest first; pass ``next_cursor`` back for the next one."""

    articles: tuple[Article, ...]
    next_cursor: str | None

    @classmethod
    def from_json(cls, data: JsonObject) -> ArticlePage:
        articles = tuple(Article.from_json(a) for a in data.get("articles", []))
        return cls(articles, data.get("next_cursor"))


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    accounts: tuple[PublicAccount, ...]
    articles: tuple[Article, ...]

    @classmethod
    def from_json(cls, data: JsonObject) -> SearchResults:
        return cls(
            query=str(data.get("query", "")),
            accounts=tuple(PublicAccount.from_json(a) for a in data.get("accounts", [])),
            articles=tuple(Article.from_json(a) for a in data.get("articles", [])),
        )


@dataclass(frozen=True, slots=True)
class PublicSubscription:
    handle: str
    name: str
    subscribed: bool
    notifications: bool  # article.published arrives live
    since: int | None

    @classmethod
    def from_json(cls, data: JsonObject) -> PublicSubscription:
        return cls(
            handle=str(data["handle"]),
            name=str(data["name"]),
            subscribed=bool(data["subscribed"]),
            notifications=bool(data["notifications"]),
            since=_opt_int(data.get("since")),
        )


class KeyCheck(enum.StrEnum):
    """What the key directory says about the signing device's key."""

    VERIFIED = "verified"  # listed, and you compared safety numbers with that device
    LISTED = "listed"  # the directory lists exactly this key for the device
    NOT_LISTED = "not_listed"  # the device is not (or no longer) in the directory
    MISMATCH = "mismatch"  # the directory lists another key for that device: a red flag
    NOT_CHECKED = "not_checked"  # not signed in on that server: only the signature was checked


@dataclass(frozen=True, slots=True)
class Verification:
    """The result of checking an article's (or revision's) signature from its public data.

    ``ok`` means the signature is valid over exactly the title and Markdown shown,
    under the handle and slug asked for, and the key directory does not contradict
    the key. Who vouches for the key itself is ``key``.
    """

    ok: bool
    signature_valid: bool
    key: KeyCheck
    problems: tuple[str, ...]
    server: str
    handle: str
    slug: str
    title: str
    revision: int
    signature: Signature | None
    article_id: str = ""
    url: str = ""

    @property
    def reference(self) -> str:
        return f"@{self.handle}/{self.slug}"
