"""Moderators open cases on their own initiative (source ``moderator``), or join the open one."""

from __future__ import annotations

import json
from typing import Any

from kabar.accounts.models import Role
from kabar.moderation.transparency.entries import LogEntry
from kabar.store import transparency as log_store
from support.api import Api, User
from support.moderation import act, article_by, moderator, refusal, report
from support.server import RunningServer


async def _open(
    api: Api, mod: User, type_: str, id_: str, item: str = "spam", note: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"target": {"type": type_, "id": id_}, "policy_item": item}
    if note is not None:
        body["note"] = note
    result: dict[str, Any] = await api.call("POST", "/v1/moderation/cases", mod, json=body)
    return result


async def test_a_moderator_opens_a_case_and_its_action_is_logged_as_the_moderators(
    api: Api, server: RunningServer
) -> None:
    author = await api.register()
    mod, other = await moderator(api, server), await moderator(api, server)
    article = await article_by(api, author)
    first = await api.http.post(
        "/v1/moderation/cases",
        headers=mod.headers,
        json={
            "target": {"type": "article", "id": article["id"]},
            "policy_item": "spam",
            "note": "seen on my rounds",
        },
    )
    assert first.status_code == 201
    case = first.json()
    assert case["source"] == "moderator"
    assert case["target"]["type"] == "article"
    assert case["target"]["id"] == article["id"]
    assert case["status"] == "open"
    assert case["snapshot"]["title"] == article["title"]
    assert [(r["source"], r["reporter"], r["note"]) for r in case["reports"]] == [
        ("moderator", mod.username, "seen on my rounds")
    ]
    # A second moderator joins the same open case (200, not a new one).
    response = await api.http.post(
        "/v1/moderation/cases",
        headers=other.headers,
        json={"target": {"type": "article", "id": article["id"]}, "policy_item": "spam"},
    )
    assert response.status_code == 200
    joined = response.json()
    assert joined["id"] == case["id"]
    assert joined["report_count"] == 2
    await act(api, mod, case["id"], "remove_content")
    async with server.services.database.read() as conn:
        rows = await log_store.leaves(conn, 0, 100)
    entries = [LogEntry.from_json(json.loads(row.entry)) for row in rows]
    assert [(e.kind, e.action, e.source) for e in entries] == [
        ("action", "remove_content", "moderator")
    ]
    admin = await moderator(api, server, Role.ADMIN)
    audit = await api.call("GET", "/v1/admin/audit", admin)
    assert "case.open" in json.dumps(audit)
    assert "case.join" in json.dumps(audit)


async def test_a_moderator_joins_a_reported_case_which_keeps_its_source(
    api: Api, server: RunningServer
) -> None:
    target, reporter = await api.register(), await api.register()
    mod = await moderator(api, server)
    await report(api, reporter, "account", target.username, "harassment")
    case = await _open(api, mod, "account", f"@{target.username}", "spam")
    assert case["source"] == "user_report"
    assert [r["source"] for r in case["reports"]] == ["user_report", "moderator"]


async def test_only_moderators_open_cases_on_real_targets(api: Api, server: RunningServer) -> None:
    user = await api.register()
    mod = await moderator(api, server)
    article = await article_by(api, user)
    denied = await refusal(_open(api, user, "article", article["id"]))
    assert (denied.status, denied.code) == (403, "not_a_moderator")
    unknown = await refusal(_open(api, mod, "article", "r_nothing"))
    assert (unknown.status, unknown.code) == (404, "target_not_found")
    bad = await refusal(_open(api, mod, "message", "e_1"))
    assert (bad.status, bad.code) == (400, "invalid_target")
    item = await refusal(_open(api, mod, "article", article["id"], item="no_such_rule"))
    assert item.status == 400
