"""Routes for articles: drafts, signed publishing, revisions, reactions and comments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from kabar.http.deps import Authenticated, MaybeAuthenticated, Svc, client_address
from kabar.http.problems import ERROR_RESPONSES
from kabar.http.public_schemas import (
    ArticleIdPath,
    ArticleOut,
    ArticlePage,
    CursorQuery,
    HandlePath,
    LimitQuery,
    PersonOut,
    SignatureOut,
    signed_time,
)
from kabar.public.articles import SignedRevision
from kabar.public.comments import Comment
from kabar.public.models import Article, Revision
from kabar.public.views import viewer_identity
from kabar.services import Services

router = APIRouter(prefix="/v1/public", tags=["articles"], responses=ERROR_RESPONSES)

SlugPath = Annotated[str, Path(min_length=1, max_length=80)]
RevisionPath = Annotated[int, Path(ge=1, le=1_000_000)]
ReactionPath = Annotated[str, Path(min_length=1, max_length=16, examples=["like"])]
CommentIdPath = Annotated[str, Path(min_length=1, max_length=40)]
# The body limit bounds it first; the renderer answers 413 above 1 MiB of UTF-8.
Markdown = Annotated[str, Field(max_length=2_097_152)]
Title = Annotated[str, Field(min_length=1, max_length=300)]


class DraftCreate(BaseModel):
    markdown: Markdown
    title: Title | None = None
    """Defaults to the text of the first top-level heading (``# …``)."""
    slug: Annotated[str | None, Field(max_length=80)] = None
    """Defaults to one made from the title."""


class DraftUpdate(BaseModel):
    markdown: Markdown | None = None
    title: Title | None = None
    slug: Annotated[str | None, Field(max_length=80)] = None


class PublishRequest(BaseModel):
    """A revision signed by this device (docs/public-accounts.md, signed authorship)."""

    title: Title
    markdown: Markdown
    revision: Annotated[int, Field(ge=1, le=1_000_000)]
    published_at: datetime
    """RFC 3339 with a zone; whole seconds are signed. In the future: scheduled."""
    signature: Annotated[str, Field(min_length=1, max_length=128)]


class PreviewRequest(BaseModel):
    markdown: Markdown


class PreviewOut(BaseModel):
    """What publishing this Markdown would show: the same renderer and sanitiser."""

    html: str
    """Sanitised HTML fragment (nh3), as an article page shows it."""
    title: str | None
    """The first top-level heading, which becomes the title if none is given."""
    summary: str
    word_count: int
    reading_minutes: int


class ArticleList(BaseModel):
    articles: list[ArticleOut]


class RevisionOut(BaseModel):
    article_id: str
    revision: int
    handle: str
    slug: str
    title: str
    published_at: str
    signature: SignatureOut
    markdown: str | None = None
    html: str | None = None

    @classmethod
    def of(cls, revision: Revision) -> RevisionOut:
        return cls(
            article_id=revision.article_id,
            revision=revision.revision,
            handle=revision.handle,
            slug=revision.slug,
            title=revision.title,
            published_at=signed_time(revision.published_at),
            signature=SignatureOut.of(revision.signature),
            markdown=revision.markdown,
            html=revision.html,
        )


class RevisionList(BaseModel):
    revisions: list[RevisionOut]


class ReactionCounts(BaseModel):
    reactions: dict[str, int]


class CommentIn(BaseModel):
    body: Annotated[str, Field(min_length=1, max_length=20_000)]


class CommentOut(BaseModel):
    id: str
    article_id: str
    author: PersonOut
    body: str | None
    created_at: int
    hidden: bool
    hidden_at: int | None

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(
            id=comment.id,
            article_id=comment.article_id,
            author=PersonOut(
                username=comment.author.username, display_name=comment.author.display_name
            ),
            body=comment.body,
            created_at=comment.created_at,
            hidden=comment.hidden,
            hidden_at=comment.hidden_at,
        )


class CommentPage(BaseModel):
    comments: list[CommentOut]
    next_cursor: str | None


async def _counted(
    article: Article, request: Request, viewer: MaybeAuthenticated, svc: Services
) -> ArticleOut:
    if article.status == "published":
        who = viewer_identity(viewer.account_id if viewer else None, client_address(request))
        await svc.views.record(article.id, who)
    return ArticleOut.of(article)


@router.post("/preview", summary="Render Markdown as an article would show it (the editor)")
async def preview(body: PreviewRequest, principal: Authenticated, svc: Svc) -> PreviewOut:
    rendered = await svc.preview.render(principal, body.markdown)
    return PreviewOut(
        html=rendered.html,
        title=rendered.title,
        summary=rendered.summary,
        word_count=rendered.word_count,
        reading_minutes=rendered.reading_minutes,
    )


@router.get("/accounts/{handle}/articles", summary="Published articles, newest first")
async def list_articles(
    handle: HandlePath, svc: Svc, cursor: CursorQuery = None, limit: LimitQuery = 20
) -> ArticlePage:
    _, page = await svc.reader.published(handle, cursor, limit)
    return ArticlePage.of(page)


@router.post("/accounts/{handle}/articles", status_code=201, summary="Save a new draft (editors)")
async def create_draft(
    handle: HandlePath, body: DraftCreate, principal: Authenticated, svc: Svc
) -> ArticleOut:
    article_id = await svc.articles.create(
        principal, handle, body.markdown, title=body.title, slug=body.slug
    )
    return ArticleOut.of(await svc.reader.get(article_id, principal))


@router.get("/accounts/{handle}/drafts", summary="Drafts, scheduled and unpublished (editors)")
async def list_drafts(handle: HandlePath, principal: Authenticated, svc: Svc) -> ArticleList:
    articles = await svc.reader.unpublished(principal, handle)
    return ArticleList(articles=[ArticleOut.of(a) for a in articles])


@router.get("/accounts/{handle}/articles/{slug}", summary="Read an article (counts a view)")
async def read_by_slug(
    handle: HandlePath, slug: SlugPath, request: Request, viewer: MaybeAuthenticated, svc: Svc
) -> ArticleOut:
    article = await svc.reader.by_slug(handle, slug, viewer)
    return await _counted(article, request, viewer, svc)


@router.get("/articles/{article_id}", summary="Read an article by id (counts a view)")
async def read_by_id(
    article_id: ArticleIdPath, request: Request, viewer: MaybeAuthenticated, svc: Svc
) -> ArticleOut:
    article = await svc.reader.get(article_id, viewer)
    return await _counted(article, request, viewer, svc)


@router.patch("/articles/{article_id}", summary="Save the working copy of a draft (editors)")
async def update_draft(
    article_id: ArticleIdPath, body: DraftUpdate, principal: Authenticated, svc: Svc
) -> ArticleOut:
    await svc.articles.update_draft(
        principal, article_id, markdown=body.markdown, title=body.title, slug=body.slug
    )
    return ArticleOut.of(await svc.reader.get(article_id, principal))


@router.delete(
    "/articles/{article_id}", status_code=204, summary="Delete a never-published draft (editors)"
)
async def delete_draft(article_id: ArticleIdPath, principal: Authenticated, svc: Svc) -> Response:
    await svc.articles.delete(principal, article_id)
    return Response(status_code=204)


@router.post(
    "/articles/{article_id}/publish",
    summary="Publish, schedule or edit: a revision signed by this device (editors)",
)
async def publish(
    article_id: ArticleIdPath, body: PublishRequest, principal: Authenticated, svc: Svc
) -> ArticleOut:
    signed = SignedRevision(
        title=body.title,
        markdown=body.markdown,
        revision=body.revision,
        published_at=body.published_at,
        signature=body.signature,
    )
    return ArticleOut.of(await svc.articles.publish(principal, article_id, signed))


@router.post(
    "/articles/{article_id}/unpublish",
    summary="Take down a published article or cancel a scheduled one (editors)",
)
async def unpublish(article_id: ArticleIdPath, principal: Authenticated, svc: Svc) -> ArticleOut:
    await svc.articles.unpublish(principal, article_id)
    return ArticleOut.of(await svc.reader.get(article_id, principal))


@router.get("/articles/{article_id}/revisions", summary="The public revision history")
async def list_revisions(
    article_id: ArticleIdPath, viewer: MaybeAuthenticated, svc: Svc
) -> RevisionList:
    revisions = await svc.reader.revisions(article_id, viewer)
    return RevisionList(revisions=[RevisionOut.of(r) for r in revisions])


@router.get(
    "/articles/{article_id}/revisions/{revision}",
    summary="One revision with its signed Markdown and rendered HTML",
)
async def get_revision(
    article_id: ArticleIdPath, revision: RevisionPath, viewer: MaybeAuthenticated, svc: Svc
) -> RevisionOut:
    return RevisionOut.of(await svc.reader.revision(article_id, revision, viewer))


@router.put("/articles/{article_id}/reactions/{reaction}", summary="React to an article")
async def react(
    article_id: ArticleIdPath, reaction: ReactionPath, principal: Authenticated, svc: Svc
) -> ReactionCounts:
    return ReactionCounts(reactions=await svc.reactions.react(principal, article_id, reaction))


@router.delete("/articles/{article_id}/reactions/{reaction}", summary="Withdraw a reaction")
async def unreact(
    article_id: ArticleIdPath, reaction: ReactionPath, principal: Authenticated, svc: Svc
) -> ReactionCounts:
    return ReactionCounts(reactions=await svc.reactions.unreact(principal, article_id, reaction))


@router.get("/articles/{article_id}/comments", summary="Comments, oldest first")
async def list_comments(
    article_id: ArticleIdPath,
    viewer: MaybeAuthenticated,
    svc: Svc,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> CommentPage:
    page = await svc.comments.page(article_id, viewer, cursor, limit)
    return CommentPage(
        comments=[CommentOut.of(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.post("/articles/{article_id}/comments", status_code=201, summary="Comment on an article")
async def add_comment(
    article_id: ArticleIdPath, body: CommentIn, principal: Authenticated, svc: Svc
) -> CommentOut:
    return CommentOut.of(await svc.comments.add(principal, article_id, body.body))


@router.post(
    "/comments/{comment_id}/hide", status_code=204, summary="Hide a comment (owners, editors)"
)
async def hide_comment(comment_id: CommentIdPath, principal: Authenticated, svc: Svc) -> Response:
    await svc.comments.set_hidden(principal, comment_id, True)
    return Response(status_code=204)


@router.post(
    "/comments/{comment_id}/unhide", status_code=204, summary="Show a hidden comment again"
)
async def unhide_comment(comment_id: CommentIdPath, principal: Authenticated, svc: Svc) -> Response:
    await svc.comments.set_hidden(principal, comment_id, False)
    return Response(status_code=204)
