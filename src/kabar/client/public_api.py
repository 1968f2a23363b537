"""Typed calls to the public-accounts API (``/v1/public/…``), one method per endpoint.

Answers are the server's JSON (``docs/public-accounts.md``, ``/v1/openapi.json``);
this module adds no policy — signing, URL parsing and verification live in
:mod:`kabar.client.authorship`, :mod:`kabar.client.public_reader` and
:mod:`kabar.client.public`. Reads of public things work without a token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from kabar.client.http import HttpTransport

JsonObject = dict[str, Any]


def _seg(value: str) -> str:
    return quote(value, safe="")


class PublicApi:
    def __init__(self, http: HttpTransport) -> None:
        self.http = http

    @property
    def base_url(self) -> str:
        return self.http.base_url

    async def _call(self, method: str, path: str, **kwargs: Any) -> JsonObject:
        result: JsonObject = await self.http.json(method, path, **kwargs) or {}
        return result

    async def _get(self, path: str, **params: Any) -> JsonObject:
        query = {k: v for k, v in params.items() if v is not None}
        return await self._call("GET", path, params=query or None, retry=True)

    # -- accounts and members -------------------------------------------------------

    async def create_account(self, handle: str, name: str, kind: str, bio: str) -> JsonObject:
        body = {"handle": handle, "name": name, "kind": kind, "bio": bio}
        return await self._call("POST", "/v1/public/accounts", json=body)

    async def account(self, handle: str) -> JsonObject:
        return await self._get(f"/v1/public/accounts/{_seg(handle)}")

    async def update_account(self, handle: str, changes: JsonObject) -> JsonObject:
        return await self._call("PATCH", f"/v1/public/accounts/{_seg(handle)}", json=changes)

    async def memberships(self) -> list[JsonObject]:
        accounts: list[JsonObject] = (await self._get("/v1/public/memberships"))["accounts"]
        return accounts

    async def members(self, handle: str) -> list[JsonObject]:
        body = await self._get(f"/v1/public/accounts/{_seg(handle)}/members")
        members: list[JsonObject] = body["members"]
        return members

    async def put_member(self, handle: str, username: str, role: str) -> list[JsonObject]:
        path = f"/v1/public/accounts/{_seg(handle)}/members/{_seg(username)}"
        members: list[JsonObject] = (await self._call("PUT", path, json={"role": role}))["members"]
        return members

    async def remove_member(self, handle: str, username: str) -> None:
        path = f"/v1/public/accounts/{_seg(handle)}/members/{_seg(username)}"
        await self.http.request("DELETE", path)

    # -- articles -------------------------------------------------------------------

    async def articles(self, handle: str, cursor: str | None, limit: int) -> JsonObject:
        path = f"/v1/public/accounts/{_seg(handle)}/articles"
        return await self._get(path, cursor=cursor, limit=limit)

    async def create_draft(
        self, handle: str, markdown: str, title: str | None, slug: str | None
    ) -> JsonObject:
        body: JsonObject = {"markdown": markdown, "title": title, "slug": slug}
        path = f"/v1/public/accounts/{_seg(handle)}/articles"
        return await self._call("POST", path, json={k: v for k, v in body.items() if v is not None})

    async def update_draft(self, article_id: str, changes: JsonObject) -> JsonObject:
        return await self._call("PATCH", f"/v1/public/articles/{_seg(article_id)}", json=changes)

    async def delete_draft(self, article_id: str) -> None:
        await self.http.request("DELETE", f"/v1/public/articles/{_seg(article_id)}")

    async def drafts(self, handle: str) -> list[JsonObject]:
        body = await self._get(f"/v1/public/accounts/{_seg(handle)}/drafts")
        articles: list[JsonObject] = body["articles"]
        return articles

    async def article_by_slug(self, handle: str, slug: str) -> JsonObject:
        return await self._get(f"/v1/public/accounts/{_seg(handle)}/articles/{_seg(slug)}")

    async def article(self, article_id: str) -> JsonObject:
        return await self._get(f"/v1/public/articles/{_seg(article_id)}")

    async def publish(self, article_id: str, signed: JsonObject) -> JsonObject:
        path = f"/v1/public/articles/{_seg(article_id)}/publish"
        return await self._call("POST", path, json=signed)

    async def unpublish(self, article_id: str) -> JsonObject:
        return await self._call("POST", f"/v1/public/articles/{_seg(article_id)}/unpublish")

    async def revisions(self, article_id: str) -> list[JsonObject]:
        body = await self._get(f"/v1/public/articles/{_seg(article_id)}/revisions")
        revisions: list[JsonObject] = body["revisions"]
        return revisions

    async def revision(self, article_id: str, number: int) -> JsonObject:
        return await self._get(f"/v1/public/articles/{_seg(article_id)}/revisions/{number}")

    # -- subscriptions, feed, search --------------------------------------------------

    async def subscribe(self, handle: str, notifications: bool) -> JsonObject:
        path = f"/v1/public/accounts/{_seg(handle)}/subscription"
        return await self._call("PUT", path, json={"notifications": notifications}, retry=True)

    async def subscription(self, handle: str) -> JsonObject:
        return await self._get(f"/v1/public/accounts/{_seg(handle)}/subscription")

    async def unsubscribe(self, handle: str) -> None:
        path = f"/v1/public/accounts/{_seg(handle)}/subscription"
        await self.http.request("DELETE", path, retry=True)

    async def subscriptions(self) -> list[JsonObject]:
        body = await self._get("/v1/public/subscriptions")
        subscriptions: list[JsonObject] = body["subscriptions"]
        return subscriptions

    async def feed(self, cursor: str | None, limit: int) -> JsonObject:
        return await self._get("/v1/public/feed", cursor=cursor, limit=limit)

    async def search(self, query: str, limit: int) -> JsonObject:
        return await self._get("/v1/public/search", q=query, limit=limit)
