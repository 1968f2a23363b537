"""Readers' side of an article: deduplicated views that keep no addresses, reactions, comments."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kabar.public import views
from kabar.store.schema import article_views, view_keys
from support.api import Api, ApiError, User
from support.public import create_account, draft, publish_new
from support.server import RunningServer


async def article_of(api: Api) -> tuple[User, dict[str, Any]]:
    editor = await api.register()
    await api.publish_keys(editor)
    handle = (await create_account(api, editor))["handle"]
    return editor, await publish_new(api, editor, handle, "# Read me\n\nPlease.")


async def view(api: Api, article: dict[str, Any], user: User | None = None, ip: str = "") -> int:
    headers = {"X-Forwarded-For": ip} if ip else {}
    path = f"/v1/public/accounts/{article['handle']}/articles/{article['slug']}"
    await api.call("GET", path, user, headers=headers)
    listed = await api.call("GET", f"/v1/public/accounts/{article['handle']}/articles")
    return int(listed["articles"][0]["view_count"])  # lists do not count views


async def test_views_count_once_per_viewer_per_day_and_store_no_address(
    api: Api, server: RunningServer
) -> None:
    _, article = await article_of(api)
    reader = await api.register()
    counts = [
        await view(api, article, ip="203.0.113.7"),
        await view(api, article, ip="203.0.113.7"),
        await view(api, article, ip="198.51.100.20"),
        await view(api, article, ip="2001:db8:1:2::1"),
        await view(api, article, ip="2001:db8:1:2::99"),  # same /64: same household
    ]
    assert counts == [1, 1, 2, 3, 3]
    assert await view(api, article, reader) == 4
    assert await view(api, article, reader) == 4
    async with server.services.database.read() as conn:
        stored = [row.viewer for row in await conn.execute(select(article_views.c.viewer))]
    assert len(stored) == 4
    for viewer in stored:
        assert len(viewer) == 64
        int(viewer, 16)  # a hash, nothing else
        assert "203.0.113" not in viewer
        assert reader.account_id not in viewer


async def test_old_days_forget_their_hashes_and_keys_but_keep_the_count(
    api: Api, server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, article = await article_of(api)
    day = views.today()
    monkeypatch.setattr(views, "today", lambda: day - 5)
    assert await view(api, article, ip="203.0.113.7") == 1
    monkeypatch.setattr(views, "today", lambda: day)
    assert await view(api, article, ip="203.0.113.7") == 2  # a new day counts again
    await server.services.views.forget_old_days()
    async with server.services.database.read() as conn:
        days = {row.day for row in await conn.execute(select(article_views.c.day))}
        key_days = {row.day for row in await conn.execute(select(view_keys.c.day))}
    assert days == key_days == {day}


async def test_reactions_count_each_kind_once_per_account(api: Api) -> None:
    editor, article = await article_of(api)
    readers = [await api.register() for _ in range(2)]
    path = f"/v1/public/articles/{article['id']}/reactions"
    for reader in readers:
        await api.call("PUT", f"{path}/like", reader)
        await api.call("PUT", f"{path}/like", reader)
    counts = await api.call("PUT", f"{path}/insightful", readers[0])
    assert counts["reactions"] == {"like": 2, "insightful": 1}
    counts = await api.call("DELETE", f"{path}/like", readers[1])
    assert counts["reactions"] == {"like": 1, "insightful": 1}
    read = await api.call("GET", f"/v1/public/articles/{article['id']}", readers[0])
    assert read["my_reactions"] == ["insightful", "like"]
    with pytest.raises(ApiError) as caught:
        await api.call("PUT", f"{path}/<script>", readers[0])
    assert caught.value.status in (400, 404)
    with pytest.raises(ApiError) as caught:
        await api.call("PUT", f"{path}/angry", readers[0])
    assert caught.value.status == 400
    secret = await draft(api, editor, article["handle"], "# Draft\n\nx")
    with pytest.raises(ApiError) as caught:
        await api.call("PUT", f"/v1/public/articles/{secret['id']}/reactions/like", readers[0])
    assert caught.value.code == "article_not_found"


async def test_editors_hide_comments_which_stay_visible_as_hidden(api: Api) -> None:
    editor, article = await article_of(api)
    commenter, stranger = await api.register(), await api.register()
    path = f"/v1/public/articles/{article['id']}/comments"
    first = await api.call("POST", path, commenter, json={"body": "Great piece."})
    assert first["author"] == {"username": commenter.username, "display_name": commenter.username}
    rude = await api.call("POST", path, commenter, json={"body": "Something rude."})
    for user in (commenter, stranger):
        with pytest.raises(ApiError) as caught:
            await api.call("POST", f"/v1/public/comments/{rude['id']}/hide", user)
        assert (caught.value.status, caught.value.code) == (403, "not_an_editor")
    await api.call("POST", f"/v1/public/comments/{rude['id']}/hide", editor)
    public = (await api.call("GET", path))["comments"]
    assert [(c["id"], c["hidden"], c["body"]) for c in public] == [
        (first["id"], False, "Great piece."),
        (rude["id"], True, None),
    ]
    assert public[1]["hidden_at"] is not None
    as_editor = (await api.call("GET", path, editor))["comments"]
    assert as_editor[1]["body"] == "Something rude."
    await api.call("POST", f"/v1/public/comments/{rude['id']}/unhide", editor)
    assert (await api.call("GET", path))["comments"][1]["body"] == "Something rude."
    assert (await api.call("GET", f"/v1/public/articles/{article['id']}"))["comment_count"] == 2


async def test_comments_have_a_length_limit_and_pages(api: Api) -> None:
    _, article = await article_of(api)
    commenter = await api.register()
    path = f"/v1/public/articles/{article['id']}/comments"
    for bad in ("   ", "x" * 4001):
        with pytest.raises(ApiError) as caught:
            await api.call("POST", path, commenter, json={"body": bad})
        assert caught.value.status == 400
    written = [
        (await api.call("POST", path, commenter, json={"body": f"comment {n}"}))["id"]
        for n in range(5)
    ]
    seen, cursor = [], None
    while True:
        page = await api.call(
            "GET", path, params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        seen += [c["id"] for c in page["comments"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == written
