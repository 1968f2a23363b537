"""Subscriptions: counts, notifications on ⇔ the feed channel, live article.published."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kabar.public.publishing import ArticlePublished
from support.api import Api, User
from support.public import create_account, publish_new


async def subscribe(api: Api, user: User, handle: str, notifications: bool = True) -> Any:
    return await api.call(
        "PUT",
        f"/v1/public/accounts/{handle}/subscription",
        user,
        json={"notifications": notifications},
    )


def published_titles(events: list[dict[str, Any]]) -> list[str]:
    return [e["content"]["title"] for e in events if e["type"] == "article.published"]


async def test_notifications_follow_the_subscription_setting(api: Api) -> None:
    editor, reader = await api.register(), await api.register()
    await api.publish_keys(editor)
    account = await create_account(api, editor)
    handle = account["handle"]
    await publish_new(api, editor, handle, "# Before\n\nText.")
    state = await subscribe(api, reader, handle)
    assert (state["subscribed"], state["notifications"]) == (True, True)
    await publish_new(api, editor, handle, "# During\n\nText.")
    await subscribe(api, reader, handle, notifications=False)
    await publish_new(api, editor, handle, "# Muted\n\nText.")
    await subscribe(api, reader, handle, notifications=True)
    await publish_new(api, editor, handle, "# Again\n\nText.")
    await api.call("DELETE", f"/v1/public/accounts/{handle}/subscription", reader)
    await publish_new(api, editor, handle, "# After\n\nText.")
    events = await api.sync_all(reader)
    assert published_titles(events) == ["During", "Again"]
    assert [e["type"] for e in events if e["type"].startswith("feed.")] == [
        "feed.followed",
        "feed.unfollowed",
        "feed.followed",
        "feed.unfollowed",
    ]
    assert all(e["feed_id"] == account["id"] for e in events if e["type"] == "article.published")
    state = await api.call("GET", f"/v1/public/accounts/{handle}/subscription", reader)
    assert state["subscribed"] is False


async def test_subscriber_counts_and_lists(api: Api) -> None:
    owner = await api.register()
    readers = [await api.register() for _ in range(3)]
    first, second = (
        (await create_account(api, owner))["handle"],
        (await create_account(api, owner))["handle"],
    )
    for reader in readers:
        await subscribe(api, reader, first)
        await subscribe(api, reader, first, notifications=False)  # a change, not a second one
    await subscribe(api, readers[0], second)
    await api.call("DELETE", f"/v1/public/accounts/{first}/subscription", readers[1])
    await api.call("DELETE", f"/v1/public/accounts/{first}/subscription", readers[1])  # no-op
    assert (await api.call("GET", f"/v1/public/accounts/{first}"))["subscriber_count"] == 2
    assert (await api.call("GET", f"/v1/public/accounts/{second}"))["subscriber_count"] == 1
    mine = await api.call("GET", "/v1/public/subscriptions", readers[0])
    assert {(s["handle"], s["notifications"]) for s in mine["subscriptions"]} == {
        (first, False),
        (second, True),
    }


async def test_an_online_subscriber_receives_article_published_over_the_websocket(
    api: Api,
) -> None:
    editor, reader = await api.register(), await api.register()
    await api.publish_keys(editor)
    handle = (await create_account(api, editor))["handle"]
    await subscribe(api, reader, handle)
    ws = await api.stream(reader)
    try:
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        article = await publish_new(api, editor, handle, "# Live news\n\nJust in.")

        async def next_article() -> dict[str, Any]:
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "event" and frame["event"]["type"] == "article.published":
                    return dict(frame["event"])

        event = await asyncio.wait_for(next_article(), 5)
    finally:
        await ws.close()
    content = event["content"]
    ArticlePublished.model_validate(content)  # exactly the published shape, nothing more
    assert (content["article_id"], content["title"], content["handle"]) == (
        article["id"],
        "Live news",
        handle,
    )
    assert content["url"] == article["url"]
    assert content["author"] == editor.username
