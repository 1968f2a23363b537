"""Actions: removal from every surface at once, labels, restrictions, suspension, strikes."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from sqlalchemy import update
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from kabar.delivery.transaction import WriteTx
from kabar.store.schema_moderation import mod_actions
from support.api import Api, ApiError, User
from support.moderation import act, article_by, case_of, moderator, refusal, report
from support.public import draft, later, publish, publish_new
from support.server import RunningServer


async def _surfaces(api: Api, reader: User, article: dict[str, Any]) -> dict[str, bool]:
    """Where the article can be seen: True = visible."""
    handle, slug, word = article["handle"], article["slug"], "Zanzibarian"

    async def ok(method: str, path: str, **kw: Any) -> bool:
        response = await api.http.request(method, path, **kw)
        assert response.status_code in (200, 404)
        return response.status_code == 200

    listed = await api.call("GET", f"/v1/public/accounts/{handle}/articles")
    feed = await api.call("GET", "/v1/public/feed", reader)
    found = await api.call("GET", "/v1/public/search", params={"q": word})
    atom = await api.http.get(f"/@{handle}/feed.atom")
    rss = await api.http.get(f"/@{handle}/feed.rss")
    page = await api.http.get(f"/@{handle}/{slug}")
    profile = await api.http.get(f"/@{handle}")
    return {
        "by_id": await ok("GET", f"/v1/public/articles/{article['id']}"),
        "by_slug": await ok("GET", f"/v1/public/accounts/{handle}/articles/{slug}"),
        "comments": await ok("GET", f"/v1/public/articles/{article['id']}/comments"),
        "listed": any(a["id"] == article["id"] for a in listed["articles"]),
        "subscriber_feed": any(a["id"] == article["id"] for a in feed["articles"]),
        "search": any(a["id"] == article["id"] for a in found["articles"]),
        "atom": article["title"] in atom.text,
        "rss": article["title"] in rss.text,
        "page": page.status_code == 200,
        "profile_page": article["title"] in profile.text,
    }


async def test_a_removal_disappears_from_every_surface_at_once_and_an_appeal_restores_it(
    api: Api, server: RunningServer
) -> None:
    author, reporter, reader = await api.register(), await api.register(), await api.register()
    mod, second = await moderator(api, server), await moderator(api, server)
    article = await article_by(api, author, "# Zanzibarian pills\n\nZanzibarian offers daily.")
    await api.call("PUT", f"/v1/public/accounts/{article['handle']}/subscription", reader, json={})
    before = await _surfaces(api, reader, article)
    assert all(before.values()), before
    await report(api, reporter, "article", article["id"], "spam")
    case = await case_of(api, mod, "article", article["id"])
    action = await act(api, mod, case["id"], "remove_content")
    assert action["action"] == "remove_content"
    assert action["moderator"] == mod.username
    after = await _surfaces(api, reader, article)
    assert not any(after.values()), after
    # Hidden, not destroyed: the moderator still sees the content as reported.
    detail = await api.call("GET", f"/v1/moderation/cases/{case['id']}", mod)
    assert detail["status"] == "closed"
    assert detail["snapshot"]["markdown"].startswith("# Zanz")
    # Appeal; a different moderator grants it; everything is back.
    notices = (await api.call("GET", "/v1/notices", author))["notices"]
    appeal = await api.call(
        "POST", f"/v1/notices/{notices[0]['id']}/appeal", author, json={"statement": "not spam"}
    )
    decided = await api.call(
        "POST",
        f"/v1/moderation/appeals/{appeal['id']}/decision",
        second,
        json={"grant": True, "rationale": "a genuine offer"},
    )
    assert decided["status"] == "granted"
    assert decided["action"]["reversed_at"]
    assert all((await _surfaces(api, reader, article)).values())


async def test_a_removed_comment_and_public_account_vanish(api: Api, server: RunningServer) -> None:
    author, commenter, reporter = await api.register(), await api.register(), await api.register()
    mod = await moderator(api, server)
    article = await article_by(api, author)
    comment = await api.call(
        "POST", f"/v1/public/articles/{article['id']}/comments", commenter, json={"body": "spam!"}
    )
    await report(api, reporter, "comment", comment["id"], "spam")
    await act(api, mod, (await case_of(api, mod, "comment", comment["id"]))["id"], "remove_content")
    comments = await api.call("GET", f"/v1/public/articles/{article['id']}/comments")
    assert comment["id"] not in [c["id"] for c in comments["comments"]]
    handle = article["handle"]
    await report(api, reporter, "public_account", handle, "impersonation")
    case = await case_of(api, mod, "public_account", (await _account_id(api, handle)))
    await act(api, mod, case["id"], "remove_content", "impersonation")
    for path in (f"/v1/public/accounts/{handle}", f"/v1/public/articles/{article['id']}"):
        with pytest.raises(ApiError) as error:
            await api.call("GET", path)
        assert error.value.status == 404
    assert (await api.http.get(f"/@{handle}")).status_code == 404
    # The handle stays taken: a removed account is hidden, not gone.
    with pytest.raises(ApiError) as taken:
        await api.call(
            "POST",
            "/v1/public/accounts",
            reporter,
            json={"handle": handle, "name": "x", "kind": "media"},
        )
    assert taken.value.code == "handle_unavailable"


async def _account_id(api: Api, handle: str) -> str:
    return str((await api.call("GET", f"/v1/public/accounts/{handle}"))["id"])


async def test_a_label_is_shown_to_readers(api: Api, server: RunningServer) -> None:
    author, reporter = await api.register(), await api.register()
    mod = await moderator(api, server)
    article = await article_by(api, author)
    await report(api, reporter, "article", article["id"], "misinformation")
    case = await case_of(api, mod, "article", article["id"])
    with pytest.raises(ApiError) as missing:
        await act(api, mod, case["id"], "label", "misinformation")
    assert missing.value.status == 400
    with pytest.raises(ApiError) as forbidden:
        await act(api, mod, case["id"], "suspend", "misinformation")
    assert forbidden.value.code == "action_not_allowed"
    await act(api, mod, case["id"], "label", "misinformation", label="disputed")
    read = await api.call("GET", f"/v1/public/articles/{article['id']}")
    assert read["label"] == "disputed"
    page = await api.http.get(f"/@{article['handle']}/{article['slug']}")
    assert "Moderator’s label: disputed" in page.text
    with pytest.raises(ApiError) as closed:
        await act(api, mod, case["id"], "dismiss")
    assert closed.value.code == "case_closed"


async def test_restricted_publishing_is_refused_until_it_expires(
    api: Api, server: RunningServer
) -> None:
    author, reporter = await api.register(), await api.register()
    mod = await moderator(api, server)
    article = await article_by(api, author)
    await report(api, reporter, "account", author.username, "spam")
    case = await case_of(api, mod, "account", author.account_id)
    action = await act(api, mod, case["id"], "restrict_publishing", duration_days=3)
    assert action["expires_at"] - action["created_at"] == 3 * 86_400_000
    with pytest.raises(ApiError) as refused:
        await publish_new(api, author, article["handle"], "# Again\n\nMore.")
    assert (refused.value.status, refused.value.code) == (403, "publishing_restricted")
    assert refused.value.body["until"] == action["expires_at"]
    with pytest.raises(ApiError) as comment:
        await api.call(
            "POST", f"/v1/public/articles/{article['id']}/comments", author, json={"body": "hi"}
        )
    assert comment.value.code == "publishing_restricted"

    # Time passes (the restriction's end moved into the past): publishing works again.
    async def expire(tx: WriteTx) -> None:
        await tx.conn.execute(
            update(mod_actions).where(mod_actions.c.id == action["id"]).values(expires_at=1)
        )

    await server.services.writer.run(expire)
    later = await draft(api, author, article["handle"], "# Later\n\nFine.")
    assert (await publish(api, author, later))["status"] == "published"


async def test_a_scheduled_article_waits_while_its_author_is_restricted(
    api: Api, server: RunningServer
) -> None:
    author, reporter = await api.register(), await api.register()
    mod = await moderator(api, server)
    first = await article_by(api, author)
    when = later(3)  # whole seconds, more than the 1 s schedule margin ahead
    scheduled = await publish(
        api, author, await draft(api, author, first["handle"], "# Queued\n\nText."), at=when
    )
    assert scheduled["status"] == "scheduled"
    await report(api, reporter, "account", author.username, "spam")
    case = await case_of(api, mod, "account", author.account_id)
    action = await act(api, mod, case["id"], "restrict_publishing", duration_days=3)
    await asyncio.sleep(max(0.0, when.timestamp() - time.time()) + 0.3)
    assert await server.services.scheduler.publish_due() == 0
    held = await api.call("GET", f"/v1/public/articles/{scheduled['id']}", author)
    assert held["status"] == "scheduled"

    async def expire(tx: WriteTx) -> None:
        await tx.conn.execute(
            update(mod_actions).where(mod_actions.c.id == action["id"]).values(expires_at=1)
        )

    await server.services.writer.run(expire)
    await server.services.scheduler.publish_due()
    live = await api.call("GET", f"/v1/public/articles/{scheduled['id']}", author)
    assert live["status"] == "published"


async def _closed(ws: ClientConnection) -> ConnectionClosed:
    while True:
        try:
            await asyncio.wait_for(ws.recv(), 5.0)
        except ConnectionClosed as closed:
            return closed


async def test_a_suspension_kills_sessions_and_sockets(api: Api, server: RunningServer) -> None:
    target, reporter = await api.register(), await api.register()
    phone = await api.login(target.username)
    mod = await moderator(api, server)
    sockets = [await api.stream(target), await api.stream(phone)]
    for ws in sockets:
        assert json.loads(await ws.recv())["type"] == "ready"
    await report(api, reporter, "account", target.username, "harassment")
    case = await case_of(api, mod, "account", target.account_id)
    await act(api, mod, case["id"], "suspend", "harassment")
    for ws in sockets:
        closed = await _closed(ws)
        assert closed.rcvd is not None
        assert closed.rcvd.code == 4003
    for device in (target, phone):
        with pytest.raises(ApiError) as error:
            await api.call("GET", "/v1/account", device)
        assert error.value.code == "account_suspended"
    # Only the notices (and appealing them) stay open to a suspended account.
    notices = (await api.call("GET", "/v1/notices", phone))["notices"]
    assert notices[0]["action"] == "suspend"
    assert notices[0]["policy_item"] == {"id": "harassment", "title": "Harassment and bullying"}


async def test_strikes_escalate_as_the_policy_says(api: Api, server: RunningServer) -> None:
    author, reporter = await api.register(), await api.register()
    mod = await moderator(api, server)
    first = await article_by(api, author, "# One\n\nThreat one.")
    await report(api, reporter, "article", first["id"], "violent_threats")
    case = await case_of(api, mod, "article", first["id"])
    await act(api, mod, case["id"], "remove_content", "violent_threats")
    # A violent threat is worth 3 strikes: the default policy restricts publishing for 7 days.
    notices = (await api.call("GET", "/v1/notices", author))["notices"]
    by_action = {n["action"]: n for n in notices}
    assert sorted(by_action) == ["remove_content", "restrict_publishing"]
    escalation = by_action["restrict_publishing"]
    assert escalation["duration_days"] == 7
    assert escalation["target"]["type"] == "account"
    assert "3 strikes" in escalation["rationale"]
    with pytest.raises(ApiError) as refused:
        await publish_new(api, author, first["handle"], "# Two\n\nText.")
    assert refused.value.code == "publishing_restricted"
    # Two more strikes (5) reach suspension.
    await report(api, reporter, "account", author.username, "spam")
    spam_case = await case_of(api, mod, "account", author.account_id)
    with pytest.raises(ApiError):
        await act(api, mod, spam_case["id"], "remove_content")  # an account is not content
    await act(api, mod, spam_case["id"], "restrict_publishing", duration_days=1)
    await report(api, reporter, "account", author.account_id, "spam")
    again = await case_of_open(api, mod, author.account_id)
    await act(api, mod, again, "restrict_publishing", duration_days=1)
    notices = (await api.call("GET", "/v1/notices", author))["notices"]
    assert "suspend" in [n["action"] for n in notices]
    with pytest.raises(ApiError) as suspended:
        await api.call("GET", "/v1/account", author)
    assert suspended.value.code == "account_suspended"


async def case_of_open(api: Api, mod: User, account_id: str) -> str:
    page = await api.call("GET", "/v1/moderation/cases?status=open&limit=100", mod)
    return next(c["id"] for c in page["cases"] if c["target"]["id"] == account_id)


async def test_a_timed_suspension_is_lifted_when_it_runs_out(
    api: Api, server: RunningServer
) -> None:
    target, reporter = await api.register(), await api.register()
    mod = await moderator(api, server)
    await report(api, reporter, "account", target.username, "spam")
    case = await case_of(api, mod, "account", target.account_id)
    action = await act(api, mod, case["id"], "suspend", duration_days=2)
    assert action["expires_at"] - action["created_at"] == 2 * 86_400_000
    moderation = server.services.moderation
    assert await moderation.lift_expired() == 0  # not yet
    error = await refusal(api.call("GET", "/v1/account", target))
    assert error.code == "account_suspended"

    async def expire(tx: WriteTx) -> None:
        await tx.conn.execute(
            update(mod_actions).where(mod_actions.c.id == action["id"]).values(expires_at=1)
        )

    await server.services.writer.run(expire)
    assert await moderation.lift_expired() == 1
    assert (await api.call("GET", "/v1/account", target))["status"] == "active"
    assert await moderation.lift_expired() == 0
