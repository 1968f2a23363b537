"""Scheduled publishing: kept in the database, so a restart neither loses nor repeats it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from conftest import ServerFactory
from support.api import Api, ApiError, User
from support.public import create_account, draft, later, publish


async def wait_published(api: Api, handle: str, slug: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        try:
            result: dict[str, Any] = await api.call(
                "GET", f"/v1/public/accounts/{handle}/articles/{slug}"
            )
            return result
        except ApiError as error:
            if error.status != 404 or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_a_scheduled_article_is_published_after_a_restart(
    make_server: ServerFactory,
) -> None:
    async with make_server() as server, Api(server.base_url) as api:
        editor, reader = await api.register(), await api.register()
        await api.publish_keys(editor)
        handle = (await create_account(api, editor))["handle"]
        await api.call("PUT", f"/v1/public/accounts/{handle}/subscription", reader, json={})
        when = later(3)
        soon = await publish(
            api, editor, await draft(api, editor, handle, "# Soon\n\nText."), at=when
        )
        cancelled = await publish(
            api, editor, await draft(api, editor, handle, "# Never\n\nText."), at=when
        )
        assert (soon["status"], soon["scheduled_at"]) == ("scheduled", int(when.timestamp()) * 1000)
        await api.call("POST", f"/v1/public/articles/{cancelled['id']}/unpublish", editor)
        assert (await api.call("GET", f"/v1/public/accounts/{handle}/articles"))["articles"] == []
    await asyncio.sleep(max(0.0, when.timestamp() - time.time()) + 0.2)  # due while down
    async with make_server() as server, Api(server.base_url) as api:
        live = await wait_published(api, handle, soon["slug"])
        assert live["published_at"] == int(when.timestamp()) * 1000  # the signed time
        assert live["signature"]["published_at"] == when.isoformat().replace("+00:00", "Z")
        listed = await api.call("GET", f"/v1/public/accounts/{handle}/articles")
        assert [a["slug"] for a in listed["articles"]] == [soon["slug"]]
        reader = await api.login(reader.username)
        published = [e for e in await api.sync_all(reader) if e["type"] == "article.published"]
        assert [e["content"]["title"] for e in published] == ["Soon"]
        editor = await api.login(editor.username)
        cancelled = await api.call("GET", f"/v1/public/articles/{cancelled['id']}", editor)
        assert (cancelled["status"], cancelled["revision"]) == ("draft", 0)


async def test_a_scheduled_article_goes_live_once_at_its_time(api: Api) -> None:
    editor: User = await api.register()
    await api.publish_keys(editor)
    handle = (await create_account(api, editor))["handle"]
    article = await publish(
        api, editor, await draft(api, editor, handle, "# Once\n\nText."), at=later(1)
    )
    live = await wait_published(api, handle, article["slug"])
    assert live["revision"] == 1
    account = await api.call("GET", f"/v1/public/accounts/{handle}")
    assert account["article_count"] == 1
