"""JSON shapes of public accounts and articles, shared by the routers that return them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel

from kabar.public import models
from kabar.public.canonical import rfc3339_utc

HandlePath = Annotated[str, Path(min_length=1, max_length=64, examples=["daily_news"])]
ArticleIdPath = Annotated[str, Path(min_length=1, max_length=40)]
CursorQuery = Annotated[str | None, Query(max_length=200)]
LimitQuery = Annotated[int, Query(ge=1, le=100)]


class VerificationOut(BaseModel):
    verified_at: int
    verified_by: str
    note: str


class PublicAccountOut(BaseModel):
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
    verification: VerificationOut | None
    my_role: str | None = None
    label: str | None = None

    @classmethod
    def of(cls, account: models.PublicAccount) -> PublicAccountOut:
        verification = account.verification
        return cls(
            id=account.id,
            handle=account.handle,
            name=account.name,
            bio=account.bio,
            kind=account.kind,
            avatar_url=account.avatar_url,
            url=account.url,
            created_at=account.created_at,
            subscriber_count=account.subscriber_count,
            article_count=account.article_count,
            verification=(
                VerificationOut(
                    verified_at=verification.verified_at,
                    verified_by=verification.verified_by,
                    note=verification.note,
                )
                if verification
                else None
            ),
            my_role=account.my_role,
            label=account.label,
        )


class PersonOut(BaseModel):
    username: str
    display_name: str


class SignatureOut(BaseModel):
    """What the publishing device signed (see docs/public-accounts.md, signed authorship)."""

    revision: int
    published_at: str
    """Exactly as signed: RFC 3339 UTC, whole seconds."""
    account: str
    device_id: str
    ed25519: str
    signature: str

    @classmethod
    def of(cls, signature: models.Signature) -> SignatureOut:
        return cls(
            revision=signature.revision,
            published_at=signed_time(signature.published_at),
            account=signature.account,
            device_id=signature.device_id,
            ed25519=signature.ed25519,
            signature=signature.signature,
        )


def signed_time(ms: int) -> str:
    return rfc3339_utc(datetime.fromtimestamp(ms // 1000, UTC))


class ArticleOut(BaseModel):
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
    edited: bool
    byline: PersonOut | None
    view_count: int
    comment_count: int
    markdown: str | None = None
    html: str | None = None
    signature: SignatureOut | None = None
    reactions: dict[str, int] = {}
    my_reactions: list[str] = []
    label: str | None = None

    @classmethod
    def of(cls, article: models.Article) -> ArticleOut:
        byline = article.byline
        return cls(
            id=article.id,
            handle=article.handle,
            account_name=article.account_name,
            account_verified=article.account_verified,
            slug=article.slug,
            url=article.url,
            status=article.status,
            title=article.title,
            summary=article.summary,
            word_count=article.word_count,
            reading_minutes=article.reading_minutes,
            image=article.image,
            revision=article.revision,
            created_at=article.created_at,
            updated_at=article.updated_at,
            scheduled_at=article.scheduled_at,
            published_at=article.published_at,
            edited_at=article.edited_at,
            edited=article.edited_at is not None,
            byline=PersonOut(username=byline.username, display_name=byline.display_name)
            if byline
            else None,
            view_count=article.view_count,
            comment_count=article.comment_count,
            markdown=article.markdown,
            html=article.html,
            signature=SignatureOut.of(article.signature) if article.signature else None,
            reactions=article.reactions,
            my_reactions=list(article.my_reactions),
            label=article.label,
        )


class ArticlePage(BaseModel):
    articles: list[ArticleOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: models.Page[models.Article]) -> ArticlePage:
        return cls(articles=[ArticleOut.of(a) for a in page.items], next_cursor=page.next_cursor)
