"""Articles through the API: drafts, signed publishing, edits and history, permissions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from support.api import Api, ApiError, User
from support.public import create_account, draft, now, publish, publish_body, publish_new

ARTICLE = """# Budget 2025: what changes

The *details* — in full.\r\n

| item | change |
|---|---:|
| rail | +3% |
"""


async def newsroom(api: Api) -> tuple[User, User, User, str]:
    """An owner and an editor (both with device keys) of a new account, and a stranger."""
    owner, editor, stranger = [await api.register() for _ in range(3)]
    for user in (owner, editor, stranger):
        await api.publish_keys(user)
    handle = (await create_account(api, owner))["handle"]
    await api.call(
        "PUT",
        f"/v1/public/accounts/{handle}/members/{editor.username}",
        owner,
        json={"role": "editor"},
    )
    return owner, editor, stranger, handle


async def test_a_published_article_is_stored_exactly_as_signed(api: Api) -> None:
    owner, editor, _, handle = await newsroom(api)
    article = await draft(api, editor, handle, ARTICLE)
    assert (article["status"], article["revision"]) == ("draft", 0)
    assert article["slug"] == "budget-2025-what-changes"
    assert article["title"] == "Budget 2025: what changes"
    live = await publish(api, editor, article)
    assert (live["status"], live["revision"], live["edited"]) == ("published", 1, False)
    assert live["byline"]["username"] == editor.username
    read = await api.call("GET", f"/v1/public/accounts/{handle}/articles/{article['slug']}")
    assert read["markdown"] == ARTICLE  # byte for byte, \r\n included
    assert '<td class="align-right">+3%</td>' in read["html"]
    signature = read["signature"]
    assert signature["device_id"] == editor.device_id
    assert signature["account"] == editor.username
    assert signature["ed25519"] == editor.olm.ed25519_key.to_base64()  # type: ignore[union-attr]
    account = await api.call("GET", f"/v1/public/accounts/{handle}")
    assert account["article_count"] == 1


async def test_a_tampered_or_foreign_signature_is_refused(api: Api) -> None:
    owner, editor, _, handle = await newsroom(api)
    article = await draft(api, editor, handle, ARTICLE)
    path = f"/v1/public/articles/{article['id']}/publish"
    body = publish_body(editor, article)
    for tampered in (
        {**body, "markdown": body["markdown"] + " "},
        {**body, "title": "Budget 2026"},
        {**body, "revision": 2},
        {**body, "published_at": (now() - timedelta(seconds=1)).isoformat()},
        publish_body(owner, article),  # signed by another device than the one calling
    ):
        with pytest.raises(ApiError) as caught:
            await api.call("POST", path, editor, json=tampered)
        assert caught.value.code in ("invalid_signature", "revision_conflict"), tampered
    with pytest.raises(ApiError) as caught:
        await api.call(
            "POST", path, editor, json={**body, "signature": body["signature"][:-4] + "AAAA"}
        )
    assert (caught.value.status, caught.value.code) == (400, "invalid_signature")
    read = await api.call("GET", f"/v1/public/articles/{article['id']}", editor)
    assert read["status"] == "draft"


async def test_a_device_without_identity_keys_cannot_publish(api: Api) -> None:
    owner, _, _, handle = await newsroom(api)
    keyless = await api.login(owner.username)
    article = await draft(api, keyless, handle, ARTICLE)
    keyless.olm = owner.olm  # would sign, but the server knows no key for this device
    with pytest.raises(ApiError) as caught:
        await publish(api, keyless, article)
    assert (caught.value.status, caught.value.code) == (409, "identity_keys_missing")


async def test_edits_keep_a_public_history_and_mark_the_article_edited(api: Api) -> None:
    owner, editor, _, handle = await newsroom(api)
    first = await publish_new(api, editor, handle, ARTICLE)
    second = await publish(api, owner, first, markdown=ARTICLE + "\nCorrection: rail +2%.\n")
    assert (second["revision"], second["edited"]) == (2, True)
    assert second["byline"]["username"] == editor.username  # the author stays the byline
    assert second["signature"]["account"] == owner.username  # the edit is signed by its editor
    history = await api.call("GET", f"/v1/public/articles/{first['id']}/revisions")
    assert [r["revision"] for r in history["revisions"]] == [2, 1]
    old = await api.call("GET", f"/v1/public/articles/{first['id']}/revisions/1")
    assert old["markdown"] == ARTICLE
    assert old["signature"]["account"] == editor.username
    assert "Correction" not in old["html"]
    with pytest.raises(ApiError) as caught:  # someone else already published revision 2
        await publish(api, editor, first)
    assert (caught.value.status, caught.value.code) == (409, "revision_conflict")
    with pytest.raises(ApiError) as caught:
        await api.call("GET", f"/v1/public/articles/{first['id']}/revisions/3")
    assert caught.value.code == "revision_not_found"


async def test_only_owners_and_editors_write_and_drafts_are_private(api: Api) -> None:
    owner, editor, stranger, handle = await newsroom(api)
    with pytest.raises(ApiError) as caught:
        await draft(api, stranger, handle, ARTICLE)
    assert (caught.value.status, caught.value.code) == (403, "not_an_editor")
    secret = await draft(api, editor, handle, "# Secret\n\nNot yet.")
    live = await publish_new(api, editor, handle, ARTICLE)
    for path in (
        f"/v1/public/articles/{secret['id']}",
        f"/v1/public/articles/{secret['id']}/revisions",
    ):
        for reader in (stranger, None):
            with pytest.raises(ApiError) as caught:
                await api.call("GET", path, reader)
            assert (caught.value.status, caught.value.code) == (404, "article_not_found")
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", f"/v1/public/articles/{live['id']}", {"markdown": "# Mine"}),
        ("POST", f"/v1/public/articles/{live['id']}/unpublish", None),
        ("POST", f"/v1/public/articles/{live['id']}/publish", publish_body(stranger, live)),
    ]
    for method, path, body in attempts:
        with pytest.raises(ApiError) as caught:
            await api.call(method, path, stranger, json=body)
        assert (caught.value.status, caught.value.code) == (403, "not_an_editor"), path
        with pytest.raises(ApiError) as caught:
            await api.call(method, path.replace(live["id"], secret["id"]), stranger, json=body)
        assert caught.value.status == 404, path
    drafts = await api.call("GET", f"/v1/public/accounts/{handle}/drafts", owner)
    assert [a["id"] for a in drafts["articles"]] == [secret["id"]]


async def test_drafts_are_edited_then_published_and_unpublished(api: Api) -> None:
    _, editor, stranger, handle = await newsroom(api)
    article = await draft(api, editor, handle, "# First try\n\nHello.", slug="hello")
    article = await api.call(
        "PATCH",
        f"/v1/public/articles/{article['id']}",
        editor,
        json={"markdown": "# Second try\n\nHello, world.", "slug": "hello-world"},
    )
    assert (article["title"], article["slug"]) == ("Second try", "hello-world")
    live = await publish(api, editor, article)
    with pytest.raises(ApiError) as caught:  # a public article is edited by publishing
        await api.call("PATCH", f"/v1/public/articles/{live['id']}", editor, json={"title": "x"})
    assert caught.value.code == "article_state"
    down = await api.call("POST", f"/v1/public/articles/{live['id']}/unpublish", editor)
    assert down["status"] == "unpublished"
    with pytest.raises(ApiError) as caught:
        await api.call("GET", f"/v1/public/accounts/{handle}/articles/hello-world", stranger)
    assert caught.value.status == 404
    assert (await api.call("GET", f"/v1/public/accounts/{handle}/articles"))["articles"] == []
    back = await publish(api, editor, down)
    assert (back["status"], back["revision"]) == ("published", 2)
    with pytest.raises(ApiError) as caught:  # published once: unpublish, never delete
        await api.call("DELETE", f"/v1/public/articles/{live['id']}", editor)
    assert caught.value.code == "article_state"


async def test_slugs_are_unique_per_account(api: Api) -> None:
    _, editor, _, handle = await newsroom(api)
    first = await draft(api, editor, handle, "# Same title")
    second = await draft(api, editor, handle, "# Same title")
    assert (first["slug"], second["slug"]) == ("same-title", "same-title-2")
    with pytest.raises(ApiError) as caught:
        await draft(api, editor, handle, "# Other", slug="same-title")
    assert (caught.value.status, caught.value.code) == (409, "slug_taken")
    for bad in ("Not A Slug", "feed"):
        with pytest.raises(ApiError) as caught:
            await draft(api, editor, handle, "# Other", slug=bad)
        assert (caught.value.status, caught.value.code) == (400, "invalid_slug")
    with pytest.raises(ApiError) as caught:
        await draft(api, editor, handle, "No heading, no title.")
    assert caught.value.status == 400


async def test_publication_times_far_from_now_are_refused(api: Api) -> None:
    _, editor, _, handle = await newsroom(api)
    article = await draft(api, editor, handle, ARTICLE)
    with pytest.raises(ApiError) as caught:
        await publish(api, editor, article, at=now() - timedelta(hours=2))
    assert (caught.value.status, caught.value.code) == (400, "invalid_publish_time")
    live = await publish(api, editor, article)
    with pytest.raises(ApiError) as caught:  # edits cannot be scheduled
        await publish(api, editor, live, at=now() + timedelta(hours=2))
    assert caught.value.code == "invalid_publish_time"


async def test_oversized_and_unstorable_markdown_is_refused(api: Api) -> None:
    _, editor, _, handle = await newsroom(api)
    with pytest.raises(ApiError) as caught:
        await draft(api, editor, handle, "# Big\n\n" + "word " * 220_000)
    assert caught.value.status == 413
    for escaped in ("# Nul \\u0000", "# Lone \\ud800 surrogate"):  # as JSON escapes
        with pytest.raises(ApiError) as caught:
            await api.call(
                "POST",
                f"/v1/public/accounts/{handle}/articles",
                editor,
                content='{"markdown": "' + escaped + '"}',
                headers={"Content-Type": "application/json"},
            )
        assert caught.value.status == 400
