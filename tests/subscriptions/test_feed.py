"""The feed: newest first across subscribed accounts, stable pages under concurrent publishing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kabar.store import subscriptions as feed_store
from support.api import Api, ApiError, User
from support.public import create_account, publish_new


async def page_all(api: Api, reader: User, limit: int, between: Any = None) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = await api.call("GET", "/v1/public/feed", reader, params=params)
        ids += [a["id"] for a in page["articles"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
        if between is not None:
            await between()


@pytest.fixture(params=["per-account", "instance-walk"])
def feed_plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "instance-walk":
        monkeypatch.setattr(feed_store, "PER_ACCOUNT_PLAN_MAX", 0)
    return str(request.param)


async def test_the_feed_is_newest_first_and_paging_is_stable_under_concurrent_publishing(
    api: Api, feed_plan: str
) -> None:
    reader = await api.register()
    editors = [await api.register() for _ in range(3)]
    handles = []
    for editor in editors:
        await api.publish_keys(editor)
        handles.append((await create_account(api, editor))["handle"])
    ignored = (await create_account(api, editors[0]))["handle"]
    for handle in handles:
        await api.call("PUT", f"/v1/public/accounts/{handle}/subscription", reader, json={})

    async def burst(label: str, per_editor: int) -> list[dict[str, Any]]:
        jobs = [
            publish_new(api, editor, handle, f"# {label} {n} by {handle}\n\nText.")
            for n in range(per_editor)
            for editor, handle in zip(editors, handles, strict=True)
        ]
        jobs.append(publish_new(api, editors[0], ignored, f"# {label} unsubscribed\n\nText."))
        return list(await asyncio.gather(*jobs))

    expected = [a for a in await burst("first", 4) if a["handle"] != ignored]
    later: list[dict[str, Any]] = []

    async def publish_more() -> None:
        later.extend(await burst("during", 1))

    seen = await page_all(api, reader, limit=5, between=publish_more)
    assert len(seen) == len(set(seen)) == len(expected)  # no repeats, nothing missed
    assert set(seen) == {a["id"] for a in expected}
    fresh = await page_all(api, reader, limit=100)
    newer = {a["id"] for a in later if a["handle"] != ignored}
    assert set(fresh[: len(newer)]) == newer  # what was published meanwhile is on top
    assert fresh[len(newer) :] == seen  # and the rest is the same order as before
    stream_order = [  # the reader follows with notifications: the stream gives the true order
        e["content"]["article_id"]
        for e in await api.sync_all(reader)
        if e["type"] == "article.published"
    ]
    assert fresh == stream_order[::-1]


async def test_unpublished_articles_leave_the_feed(api: Api) -> None:
    editor, reader = await api.register(), await api.register()
    await api.publish_keys(editor)
    handle = (await create_account(api, editor))["handle"]
    await api.call("PUT", f"/v1/public/accounts/{handle}/subscription", reader, json={})
    kept = await publish_new(api, editor, handle, "# Kept\n\nText.")
    gone = await publish_new(api, editor, handle, "# Gone\n\nText.")
    assert await page_all(api, reader, 10) == [gone["id"], kept["id"]]
    await api.call("POST", f"/v1/public/articles/{gone['id']}/unpublish", editor)
    assert await page_all(api, reader, 10) == [kept["id"]]
    with pytest.raises(ApiError) as caught:
        await api.call("GET", "/v1/public/feed", reader, params={"cursor": "not-a-cursor"})
    assert (caught.value.status, caught.value.code) == (400, "invalid_cursor")
