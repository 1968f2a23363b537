"""Routes for subscriptions, the feed, search and image uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from kabar.http.deps import Authenticated, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.http.public_accounts import IMAGE_BODY
from kabar.http.public_schemas import (
    ArticleOut,
    ArticlePage,
    CursorQuery,
    HandlePath,
    LimitQuery,
    PublicAccountOut,
)
from kabar.media.uploads import ImageFile
from kabar.subscriptions.service import Subscription

router = APIRouter(tags=["subscriptions"], responses=ERROR_RESPONSES)


class SubscriptionIn(BaseModel):
    notifications: bool = True
    """Receive article.published live on the event stream."""


class SubscriptionOut(BaseModel):
    handle: str
    name: str
    subscribed: bool
    notifications: bool
    since: int | None

    @classmethod
    def of(cls, subscription: Subscription) -> SubscriptionOut:
        return cls(
            handle=subscription.handle,
            name=subscription.name,
            subscribed=subscription.subscribed,
            notifications=subscription.notifications,
            since=subscription.since,
        )


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class SearchOut(BaseModel):
    query: str
    accounts: list[PublicAccountOut]
    articles: list[ArticleOut]


class ImageFileOut(BaseModel):
    path: str
    """Site path to use in Markdown: ``![alt](/media/…)``."""
    url: str
    mime: str
    width: int
    height: int


class ImageOut(BaseModel):
    media_id: str
    image: ImageFileOut
    variants: list[ImageFileOut]


def _file(file: ImageFile, public_url: str) -> ImageFileOut:
    return ImageFileOut(
        path=file.path,
        url=public_url.rstrip("/") + file.path,
        mime=file.mime,
        width=file.width,
        height=file.height,
    )


@router.put(
    "/v1/public/accounts/{handle}/subscription", summary="Subscribe, or change notifications"
)
async def subscribe(
    handle: HandlePath, body: SubscriptionIn, principal: Authenticated, svc: Svc
) -> SubscriptionOut:
    return SubscriptionOut.of(
        await svc.subscriptions.subscribe(principal, handle, body.notifications)
    )


@router.get("/v1/public/accounts/{handle}/subscription", summary="Your subscription to an account")
async def get_subscription(
    handle: HandlePath, principal: Authenticated, svc: Svc
) -> SubscriptionOut:
    return SubscriptionOut.of(await svc.subscriptions.get(principal, handle))


@router.delete("/v1/public/accounts/{handle}/subscription", status_code=204, summary="Unsubscribe")
async def unsubscribe(handle: HandlePath, principal: Authenticated, svc: Svc) -> Response:
    await svc.subscriptions.unsubscribe(principal, handle)
    return Response(status_code=204)


@router.get("/v1/public/subscriptions", summary="Accounts you subscribe to")
async def list_subscriptions(principal: Authenticated, svc: Svc) -> SubscriptionList:
    subscriptions = await svc.subscriptions.mine(principal)
    return SubscriptionList(subscriptions=[SubscriptionOut.of(s) for s in subscriptions])


@router.get("/v1/public/feed", summary="Articles of the accounts you subscribe to, newest first")
async def feed(
    principal: Authenticated, svc: Svc, cursor: CursorQuery = None, limit: LimitQuery = 20
) -> ArticlePage:
    return ArticlePage.of(await svc.feed.page(principal, cursor, limit))


@router.get("/v1/public/search", tags=["discovery"], summary="Search public accounts and articles")
async def search(
    svc: Svc,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: LimitQuery = 20,
) -> SearchOut:
    results = await svc.search.search(q, limit)
    return SearchOut(
        query=results.query,
        accounts=[PublicAccountOut.of(a) for a in results.accounts],
        articles=[ArticleOut.of(a) for a in results.articles],
    )


@router.post(
    "/v1/media/images",
    status_code=201,
    tags=["media"],
    summary="Upload an image for articles (the body is the image); served at /media/…",
    openapi_extra=IMAGE_BODY,
)
async def upload_image(request: Request, principal: Authenticated, svc: Svc) -> ImageOut:
    stored = await svc.media.upload_image(principal, await request.body())
    url = svc.config.server.public_url
    return ImageOut(
        media_id=stored.media_id,
        image=_file(stored.image, url),
        variants=[_file(v, url) for v in stored.variants],
    )
