"""The values public-account services hand to the HTTP layer and the web pages.

Rows become these dataclasses in one place (the ``*_from_row`` functions), so
every API response and page shows the same facts the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Kind(StrEnum):
    """What a public account is, shown as a label next to its name."""

    INDIVIDUAL = "individual"
    ORGANISATION = "organisation"
    MEDIA = "media"
    GOVERNMENT = "government"
    COMPANY = "company"


class MemberRole(StrEnum):
    OWNER = "owner"
    """Manages members and the profile; publishes like an editor."""
    EDITOR = "editor"
    """Publishes, edits and unpublishes articles; hides comments."""


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


# Reactions readers may leave, with how pages show them.
REACTIONS: dict[str, str] = {
    "like": "👍",
    "love": "❤️",
    "insightful": "💡",
    "celebrate": "🎉",
    "sad": "😢",
}


@dataclass(frozen=True, slots=True)
class Verification:
    verified_at: int
    verified_by: str
    """Username of the admin who verified the account."""
    note: str
    """The evidence they relied on, public."""


@dataclass(frozen=True, slots=True)
class PublicAccount:
    id: str
    handle: str
    name: str
    bio: str
    kind: str
    avatar_url: str | None
    url: str
    created_at: int
    subscriber_count: int
    article_count: int
    verification: Verification | None
    my_role: str | None = None
    label: str | None = None  # a moderator's label, shown with the profile


@dataclass(frozen=True, slots=True)
class Member:
    username: str
    display_name: str
    role: str
    added_at: int


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Signature:
    """What the publishing device signed for one revision (kabar.public.canonical)."""

    revision: int
    published_at: int
    account: str
    device_id: str
    ed25519: str
    signature: str


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    handle: str
    account_name: str
    account_verified: bool
    slug: str
    url: str
    status: str
    title: str
    summary: str
    word_count: int
    reading_minutes: int
    image: str | None
    revision: int
    created_at: int
    updated_at: int
    scheduled_at: int | None
    published_at: int | None
    edited_at: int | None
    byline: Person | None
    view_count: int
    comment_count: int
    markdown: str | None = None
    html: str | None = None
    signature: Signature | None = None
    reactions: dict[str, int] = field(default_factory=dict)
    my_reactions: tuple[str, ...] = ()
    label: str | None = None  # a moderator's label, shown to readers with the article


@dataclass(frozen=True, slots=True)
class Revision:
    article_id: str
    revision: int
    title: str
    slug: str
    handle: str
    published_at: int
    signature: Signature
    markdown: str | None = None
    html: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def account_url(public_url: str, handle: str) -> str:
    return f"{public_url.rstrip('/')}/@{handle}"


def public_account_from_row(row: Any, public_url: str, my_role: str | None = None) -> PublicAccount:
    verification = None
    if row.verified_at is not None:
        verification = Verification(
            verified_at=row.verified_at,
            verified_by=row.verified_by_username or "",
            note=row.verification_note or "",
        )
    return PublicAccount(
        id=row.id,
        handle=row.handle,
        name=row.name,
        bio=row.bio,
        kind=row.kind,
        avatar_url=row.avatar_url,
        url=account_url(public_url, row.handle),
        created_at=row.created_at,
        subscriber_count=int(row.subscriber_count),
        article_count=int(row.article_count),
        verification=verification,
        my_role=my_role,
        label=row._mapping.get("label"),
    )


def article_from_row(row: Any, public_url: str, **extra: Any) -> Article:
    byline = None
    if row.author_username is not None:
        byline = Person(row.author_username, row.author_name or row.author_username)
    mapping = row._mapping
    return Article(
        id=row.id,
        handle=row.handle,
        account_name=row.account_name,
        account_verified=row.account_verified_at is not None,
        slug=row.slug,
        url=f"{account_url(public_url, row.handle)}/{row.slug}",
        status=row.status,
        title=row.title,
        summary=row.summary,
        word_count=row.word_count,
        reading_minutes=row.reading_minutes,
        image=row.image,
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        scheduled_at=row.scheduled_at,
        published_at=row.published_at,
        edited_at=row.edited_at,
        byline=byline,
        view_count=int(row.view_count),
        comment_count=int(row.comment_count),
        markdown=mapping.get("markdown"),
        html=mapping.get("html"),
        label=mapping.get("label"),
        **extra,
    )


def signature_from_row(row: Any) -> Signature:
    return Signature(
        revision=row.revision,
        published_at=row.published_at,
        account=row.username,
        device_id=row.device_id,
        ed25519=row.ed25519,
        signature=row.signature,
    )
