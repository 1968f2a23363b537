"""Removed articles leave the event-stream history: redacted in place, restored by appeal."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from support.api import Api, User
from support.moderation import act, case_of, moderator, report
from support.public import create_account, publish_new
from support.server import RunningServer


async def _replay(api: Api, user: User) -> dict[str, dict[str, Any]]:
    """Sync from the very start: every article.published event by event id."""
    user.since = None
    events = await api.sync_all(user)
    return {e["event_id"]: e for e in events if e["type"] == "article.published"}


async def _catch_up(api: Api, user: User, count: int) -> list[dict[str, Any]]:
    """The WebSocket catch-up from the start: the first ``count`` article.published events."""
    ws = await api.stream(user)
    found: list[dict[str, Any]] = []
    try:
        while len(found) < count:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame.get("type") == "event" and frame["event"]["type"] == "article.published":
                found.append(frame["event"])
    finally:
        await ws.close()
    return found


def _titles(events: dict[str, dict[str, Any]]) -> dict[str, str | None]:
    return {key: e["content"].get("title") for key, e in events.items()}


async def _setup(api: Api) -> tuple[User, User, dict[str, Any], dict[str, Any], dict[str, Any]]:
    author, reader = await api.register(), await api.register()
    await api.publish_keys(author)
    account = await create_account(api, author)
    handle = account["handle"]
    await api.call(
        "PUT",
        f"/v1/public/accounts/{handle}/subscription",
        reader,
        json={"notifications": True},
    )
    spam = await publish_new(api, author, handle, "# Cheap pills\n\nBuy now.")
    news = await publish_new(api, author, handle, "# Honest news\n\nIt rained.")
    return author, reader, account, spam, news


async def _appeal_granted(api: Api, server: RunningServer, owner: User) -> None:
    other = await moderator(api, server)
    notice = (await api.call("GET", "/v1/notices", owner))["notices"][0]
    appeal = await api.call(
        "POST", f"/v1/notices/{notice['id']}/appeal", owner, json={"statement": "Not spam."}
    )
    await api.call(
        "POST",
        f"/v1/moderation/appeals/{appeal['id']}/decision",
        other,
        json={"grant": True, "rationale": "Legitimate."},
    )


async def test_removing_an_article_redacts_its_published_event_until_an_appeal_restores_it(
    api: Api, server: RunningServer
) -> None:
    author, reader, _, spam, news = await _setup(api)
    before = await _replay(api, reader)
    assert sorted(_titles(before).values()) == ["Cheap pills", "Honest news"]
    spam_event = next(k for k, e in before.items() if e["content"]["article_id"] == spam["id"])
    mod = await moderator(api, server)
    await report(api, await api.register(), "article", spam["id"])
    await act(api, mod, (await case_of(api, mod, "article", spam["id"]))["id"], "remove_content")

    after = await _replay(api, reader)
    assert list(after) == list(before)  # the same events at the same positions
    assert after[spam_event]["content"] == {"article_id": spam["id"], "removed": True}
    assert "Cheap pills" not in json.dumps(after)
    assert before[spam_event]["feed_id"] == after[spam_event]["feed_id"]
    others = [k for k in before if k != spam_event]
    assert [after[k]["content"] for k in others] == [before[k]["content"] for k in others]
    live = await _catch_up(api, reader, 2)
    assert [e["event_id"] for e in live] == list(before)
    assert {"article_id": spam["id"], "removed": True} in [e["content"] for e in live]
    assert news["id"] in [e["content"]["article_id"] for e in live]

    await _appeal_granted(api, server, author)
    restored = await _replay(api, reader)
    assert list(restored) == list(before)
    assert restored[spam_event]["content"] == before[spam_event]["content"]


async def test_removing_a_public_account_redacts_all_its_articles_events(
    api: Api, server: RunningServer
) -> None:
    author, reader, account, spam, news = await _setup(api)
    before = await _replay(api, reader)
    mod = await moderator(api, server)
    # One article is removed on its own first; the account's appeal must not restore it.
    await report(api, await api.register(), "article", spam["id"])
    await act(api, mod, (await case_of(api, mod, "article", spam["id"]))["id"], "remove_content")
    await report(api, await api.register(), "public_account", account["id"])
    case = await case_of(api, mod, "public_account", account["id"])
    await act(api, mod, case["id"], "remove_content")

    after = await _replay(api, reader)
    assert list(after) == list(before)
    assert sorted(e["content"]["article_id"] for e in after.values()) == sorted(
        [spam["id"], news["id"]]
    )
    assert all(e["content"]["removed"] is True for e in after.values())
    assert all(set(e["content"]) == {"article_id", "removed"} for e in after.values())

    # Granting the account's appeal (the newest notice) brings back only the other article.
    await _appeal_granted(api, server, author)
    restored = await _replay(api, reader)
    assert list(restored) == list(before)
    titles = {e["content"]["article_id"]: e["content"].get("title") for e in restored.values()}
    assert titles == {spam["id"]: None, news["id"]: "Honest news"}
    news_event = next(k for k, e in before.items() if e["content"]["article_id"] == news["id"])
    assert restored[news_event]["content"] == before[news_event]["content"]
