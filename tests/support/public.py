"""Test helpers for public accounts: create accounts, write drafts, sign and publish revisions."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kabar.public.canonical import ArticleRevision, revision_payload
from support.api import Api, User

_handles = itertools.count()


def unique_handle(prefix: str = "pub") -> str:
    return f"{prefix}{next(_handles)}_{uuid.uuid4().hex[:6]}"


async def create_account(
    api: Api, owner: User, handle: str | None = None, kind: str = "media", **fields: Any
) -> dict[str, Any]:
    body = {"handle": handle or unique_handle(), "name": "A Public Voice", "kind": kind, **fields}
    result: dict[str, Any] = await api.call("POST", "/v1/public/accounts", owner, json=body)
    return result


async def draft(api: Api, user: User, handle: str, markdown: str, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = await api.call(
        "POST",
        f"/v1/public/accounts/{handle}/articles",
        user,
        json={"markdown": markdown, **fields},
    )
    return result


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def sign(
    user: User,
    *,
    handle: str,
    slug: str,
    title: str,
    markdown: str,
    revision: int,
    published_at: datetime,
) -> str:
    """The device's Ed25519 signature over the canonical revision (needs publish_keys first)."""
    assert user.olm is not None, "call api.publish_keys(user) first"
    payload = revision_payload(
        ArticleRevision(
            handle=handle,
            slug=slug,
            title=title,
            markdown=markdown,
            revision=revision,
            published_at=published_at,
            device_id=user.device_id,
            account=user.username,
        )
    )
    return user.olm.sign(payload).to_base64()


def publish_body(
    user: User,
    article: dict[str, Any],
    *,
    markdown: str | None = None,
    title: str | None = None,
    revision: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    markdown = article["markdown"] if markdown is None else markdown
    title = article["title"] if title is None else title
    revision = article["revision"] + 1 if revision is None else revision
    at = at or now()
    signature = sign(
        user,
        handle=article["handle"],
        slug=article["slug"],
        title=title,
        markdown=markdown,
        revision=revision,
        published_at=at,
    )
    return {
        "title": title,
        "markdown": markdown,
        "revision": revision,
        "published_at": at.isoformat().replace("+00:00", "Z"),
        "signature": signature,
    }


async def publish(api: Api, user: User, article: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Sign and publish the next revision of ``article`` (as returned by the API)."""
    body = publish_body(user, article, **changes)
    result: dict[str, Any] = await api.call(
        "POST", f"/v1/public/articles/{article['id']}/publish", user, json=body
    )
    return result


async def publish_new(
    api: Api, user: User, handle: str, markdown: str, **changes: Any
) -> dict[str, Any]:
    """Write a draft and publish it at once."""
    return await publish(api, user, await draft(api, user, handle, markdown), **changes)


def later(seconds: float) -> datetime:
    return now() + timedelta(seconds=seconds)
