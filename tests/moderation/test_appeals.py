"""Notices and appeals: live notices, anonymity of reporters, appeals by another moderator."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection

from kabar.moderation.transparency.entries import LogEntry
from kabar.store import transparency as log_store
from support.api import Api, User
from support.moderation import act, article_by, case_of, moderator, refusal, report
from support.server import RunningServer


async def _next_event(ws: ClientConnection, type_: str) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame.get("type") == "event" and frame["event"]["type"] == type_:
            return dict(frame["event"])


async def _removed_article(
    api: Api, server: RunningServer, author: User, mod: User
) -> dict[str, Any]:
    reporter = await api.register()
    article = await article_by(api, author)
    await report(api, reporter, "article", article["id"], "spam", note=f"by {reporter.username}")
    case = await case_of(api, mod, "article", article["id"])
    return await act(api, mod, case["id"], "remove_content")


async def test_notices_arrive_live_on_every_device_and_name_no_reporter(
    api: Api, server: RunningServer
) -> None:
    author = await api.register()
    phone = await api.login(author.username)
    mod = await moderator(api, server)
    sockets = [await api.stream(author), await api.stream(phone)]
    for ws in sockets:
        assert json.loads(await ws.recv())["type"] == "ready"
    action = await _removed_article(api, server, author, mod)
    stored = (await api.call("GET", "/v1/notices", author))["notices"]
    assert len(stored) == 1
    notice = stored[0]
    for ws in sockets:
        event = await _next_event(ws, "moderation.notice")
        assert event["content"] == notice
    assert notice["action"] == "remove_content"
    assert notice["policy_item"] == {"id": "spam", "title": "Spam"}
    assert notice["rationale"] == action["rationale"]
    assert notice["target"]["type"] == "article"
    assert notice["target"]["id"] == action["target"]["id"]
    assert notice["appeal"]["status"] == "none"
    assert notice["appeal"]["deadline"] == notice["created_at"] + 30 * 86_400_000
    # Reporters stay anonymous: nothing the author sees names one.
    assert "by " not in json.dumps(stored)
    case = await api.call("GET", f"/v1/moderation/cases/{action['case_id']}", mod)
    assert case["reports"][0]["reporter"] not in json.dumps(stored)
    await refusal(api.call("GET", f"/v1/moderation/cases/{action['case_id']}", author))


async def test_an_appeal_goes_to_a_different_moderator_once(
    api: Api, server: RunningServer
) -> None:
    author, stranger = await api.register(), await api.register()
    mod, other = await moderator(api, server), await moderator(api, server)
    await _removed_article(api, server, author, mod)
    notice = (await api.call("GET", "/v1/notices", author))["notices"][0]
    path = f"/v1/notices/{notice['id']}/appeal"
    stolen = await refusal(api.call("POST", path, stranger, json={"statement": "mine"}))
    assert stolen.code == "notice_not_found"
    appeal = await api.call("POST", path, author, json={"statement": "It was a joke."})
    assert appeal["status"] == "pending"
    assert appeal["account"] == author.username
    again = await refusal(api.call("POST", path, author, json={"statement": "again"}))
    assert again.code == "already_appealed"
    pending = await api.call("GET", "/v1/moderation/appeals", other)
    assert [a["id"] for a in pending["appeals"]] == [appeal["id"]]
    assert pending["appeals"][0]["action"]["moderator"] == mod.username
    decision = f"/v1/moderation/appeals/{appeal['id']}/decision"
    conflict = await refusal(
        api.call("POST", decision, mod, json={"grant": False, "rationale": "I stand by it"})
    )
    assert (conflict.status, conflict.code) == (403, "appeal_conflict")
    denied = await api.call("POST", decision, other, json={"grant": False, "rationale": "Spam."})
    assert denied["status"] == "denied"
    assert denied["decided_by"] == other.username
    assert denied["action"]["reversed_at"] is None
    assert (await api.call("GET", "/v1/moderation/appeals", other))["appeals"] == []
    after = (await api.call("GET", "/v1/notices", author))["notices"][0]
    assert after["appeal"]["status"] == "denied"
    assert after["appeal"]["rationale"] == "Spam."
    twice = await refusal(api.call("POST", decision, other, json={"grant": True, "rationale": "x"}))
    assert twice.code == "appeal_decided"


async def test_a_suspended_account_appeals_and_a_grant_reinstates_it(
    api: Api, server: RunningServer
) -> None:
    target, reporter = await api.register(), await api.register()
    mod, other = await moderator(api, server), await moderator(api, server)
    await report(api, reporter, "account", target.username, "harassment")
    case = await case_of(api, mod, "account", target.account_id)
    await act(api, mod, case["id"], "suspend", "harassment")
    assert (await refusal(api.call("GET", "/v1/account", target))).code == "account_suspended"
    notice = (await api.call("GET", "/v1/notices", target))["notices"][0]
    appeal = await api.call(
        "POST", f"/v1/notices/{notice['id']}/appeal", target, json={"statement": "Hacked."}
    )
    await api.call(
        "POST",
        f"/v1/moderation/appeals/{appeal['id']}/decision",
        other,
        json={"grant": True, "rationale": "The account was compromised."},
    )
    assert (await api.call("GET", "/v1/account", target))["username"] == target.username
    # Signed in again, the account's stream carries the notice, now with the appeal granted.
    stream = await api.stream(target)
    try:
        while True:
            event = await _next_event(stream, "moderation.notice")
            if event["content"]["appeal"]["status"] == "granted":
                break
    finally:
        await stream.close()
    assert event["content"]["id"] == notice["id"]


async def test_actions_and_appeal_outcomes_enter_the_transparency_log(
    api: Api, server: RunningServer
) -> None:
    author, reporter = await api.register(), await api.register()
    mod, other = await moderator(api, server), await moderator(api, server)
    action = await _removed_article(api, server, author, mod)
    await report(api, reporter, "account", author.username, "spam")
    await act(api, mod, (await case_of(api, mod, "account", author.account_id))["id"], "dismiss")
    notice = (await api.call("GET", "/v1/notices", author))["notices"][0]
    appeal = await api.call(
        "POST", f"/v1/notices/{notice['id']}/appeal", author, json={"statement": "no"}
    )
    await api.call(
        "POST",
        f"/v1/moderation/appeals/{appeal['id']}/decision",
        other,
        json={"grant": True, "rationale": "Restored after review."},
    )
    async with server.services.database.read() as conn:
        rows = await log_store.leaves(conn, 0, 100)
    entries = [LogEntry.from_json(json.loads(row.entry)) for row in rows]
    assert [(e.kind, e.action) for e in entries] == [
        ("action", "remove_content"),
        ("action", "dismiss"),
        ("appeal_outcome", "appeal_granted"),
    ]
    removal, dismissal, outcome = entries
    assert removal.target.ref == f"{server.base_url}/@{action['target']['id']}" or (
        removal.target.ref.startswith("http")
    )
    assert removal.source == "user_report"
    assert removal.automated is False
    assert removal.summary == action["rationale"]
    # A person's account appears only as a hashed reference.
    assert dismissal.target.type == "account"
    assert dismissal.target.ref.startswith("sha256:")
    assert author.account_id not in rows[1].entry
    assert author.username not in rows[1].entry
    assert outcome.appeal_of == removal.seq
    assert outcome.source == "moderator"


async def test_the_monthly_report_counts_reports_appeals_and_time_to_action(
    api: Api, server: RunningServer
) -> None:
    author, reporter = await api.register(), await api.register()
    mod = await moderator(api, server)
    await _removed_article(api, server, author, mod)  # one spam report, one removal
    await report(api, reporter, "account", author.username, "harassment")
    notice = (await api.call("GET", "/v1/notices", author))["notices"][0]
    await api.call("POST", f"/v1/notices/{notice['id']}/appeal", author, json={"statement": "no"})
    month = time.strftime("%Y-%m", time.gmtime())
    figures = await api.call("GET", "/transparency/report.json", params={"month": month})
    assert figures["reports"] == {
        "total": 2,
        "by_category": {"spam": 1, "harassment": 1},
        "by_source": {"user_report": 2},
    }
    assert figures["appeals"]["filed"] == 1
    assert figures["actions"]["by_type"] == {"remove_content": 1}
    assert figures["actions"]["median_time_to_action_ms"] >= 0
