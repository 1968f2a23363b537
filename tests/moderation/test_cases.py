"""Reports and cases over HTTP: one case per target, the queue's order, who may see what."""

from __future__ import annotations

import os

from kabar.accounts.models import Role
from kabar.protocol.canonical import canonical_json
from kabar.protocol.franking import commit
from support.api import Api
from support.moderation import article_by, case_of, moderator, refusal, report
from support.server import RunningServer


async def test_the_policy_is_public_with_every_item(api: Api) -> None:
    policy = await api.call("GET", "/v1/moderation/policy")
    items = {item["id"]: item for item in policy["items"]}
    assert {"spam", "terrorism", "child_safety", "other"} <= set(items)
    assert items["terrorism"]["severity"] == 5
    assert items["child_safety"]["actions"] == ["dismiss", "remove_content", "suspend"]
    assert items["spam"]["title"] == "Spam"
    assert items["spam"]["description"]


async def test_reports_on_one_target_join_one_case(api: Api, server: RunningServer) -> None:
    author, first, second = await api.register(), await api.register(), await api.register()
    mod = await moderator(api, server)
    article = await article_by(api, author)
    received = await report(api, first, "article", article["id"], "spam", note="ads")
    assert received["status"] == "received"
    assert received["report_id"]
    await report(api, second, "article", article["id"], "violent_threats")
    case = await case_of(api, mod, "article", article["id"])
    assert case["report_count"] == 2
    assert case["status"] == "open"
    # The case takes the most severe item reported, and keeps the content as reported.
    assert case["policy_item"] == "violent_threats"
    assert case["severity"] == 4
    assert case["snapshot"]["title"] == article["title"]
    assert case["target"]["url"] == article["url"]
    assert case["owner"] == author.username
    reporters = {r["reporter"] for r in case["reports"]}
    assert reporters == {first.username, second.username}
    assert [r["note"] for r in case["reports"]] == ["ads", None]


async def test_the_queue_orders_by_severity_then_age(api: Api, server: RunningServer) -> None:
    reporter = await api.register()
    mod = await moderator(api, server)
    targets = [await api.register() for _ in range(3)]
    await report(api, reporter, "account", targets[0].username, "spam")  # severity 2, oldest
    await report(api, reporter, "account", targets[1].username, "terrorism")  # 5
    await report(api, reporter, "account", targets[2].username, "impersonation")  # 3
    await report(api, reporter, "account", targets[0].account_id, "other")  # joins, stays 2
    page = await api.call("GET", "/v1/moderation/cases?limit=2", mod)
    second = await api.call("GET", f"/v1/moderation/cases?limit=2&cursor={page['next']}", mod)
    assert second["next"] is None
    ours = {t.account_id for t in targets}
    order = [
        c["target"]["id"] for c in page["cases"] + second["cases"] if c["target"]["id"] in ours
    ]
    assert order == [targets[1].account_id, targets[2].account_id, targets[0].account_id]
    assert [c["report_count"] for c in page["cases"] + second["cases"]][-1] == 2


async def test_only_moderators_see_cases(api: Api, server: RunningServer) -> None:
    user, author = await api.register(), await api.register()
    article = await article_by(api, author)
    await report(api, user, "article", article["id"])
    for path in ("/v1/moderation/cases", "/v1/moderation/appeals", "/v1/admin/audit"):
        error = await refusal(api.call("GET", path, user))
        assert error.status == 403
        assert error.code in ("not_a_moderator", "not_an_admin")
    mod = await moderator(api, server)
    case = await case_of(api, mod, "article", article["id"])
    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/notes", {"text": "hm"}),
        ("POST", "/assign", {"assignee": user.username}),
        ("POST", "/actions", {"action": "dismiss", "policy_item": "spam", "rationale": "x"}),
    ):
        path = f"/v1/moderation/cases/{case['id']}{suffix}"
        error = await refusal(api.call(method, path, author, json=body))
        assert error.code == "not_a_moderator"
    # A moderator is not an admin.
    assert (await refusal(api.call("GET", "/v1/admin/audit", mod))).code == "not_an_admin"


async def test_assignment_and_notes_are_kept_and_audited(api: Api, server: RunningServer) -> None:
    reporter, target = await api.register(), await api.register()
    mod, other = await moderator(api, server), await moderator(api, server)
    admin = await moderator(api, server, Role.ADMIN)
    await report(api, reporter, "account", target.username, "harassment")
    case = await case_of(api, mod, "account", target.account_id)
    path = f"/v1/moderation/cases/{case['id']}"
    assigned = await api.call("POST", f"{path}/assign", mod, json={"assignee": other.username})
    assert assigned["assignee"] == other.username
    mine = await api.call("GET", "/v1/moderation/cases?assigned=" + other.username, other)
    assert [c["id"] for c in mine["cases"]] == [case["id"]]
    error = await refusal(
        api.call("POST", f"{path}/assign", mod, json={"assignee": reporter.username})
    )
    assert error.status == 400
    note = await api.call("POST", f"{path}/notes", other, json={"text": "seen this before"})
    detail = await api.call("GET", path, mod)
    assert [(n["author"], n["text"]) for n in detail["notes"]] == [
        (other.username, "seen this before")
    ]
    assert note["id"] == detail["notes"][0]["id"]
    audit = await api.call("GET", "/v1/admin/audit", admin)
    assert [(e["actor"], e["action"]) for e in audit["entries"][:2]] == [
        (other.username, "case.note"),
        (mod.username, "case.assign"),
    ]


async def test_bad_reports_are_refused_with_typed_errors(api: Api) -> None:
    user = await api.register()
    for body, code in (
        ({"target": {"type": "planet", "id": "x"}, "policy_item": "spam"}, "invalid_target"),
        ({"target": {"type": "message", "id": "x"}, "policy_item": "spam"}, "invalid_target"),
        (
            {"target": {"type": "article", "id": "r_nope"}, "policy_item": "spam"},
            "target_not_found",
        ),
        ({"target": {"type": "account", "id": user.username}, "policy_item": "nope"}, None),
    ):
        error = await refusal(api.call("POST", "/v1/moderation/reports", user, json=body))
        assert error.status in (400, 404)
        assert code is None or error.code == code


async def test_a_franked_message_report_opens_a_message_case(
    api: Api, server: RunningServer
) -> None:
    alice, bob = await api.register(), await api.register()
    mod = await moderator(api, server)
    direct = await api.direct(alice, bob)
    message = canonical_json({"type": "m.text", "body": "I know where you live"})
    key = os.urandom(32)
    sent = await api.send(alice, direct, "ciphertext", commitment=commit(key, message))
    import base64

    body = {
        "event_id": sent["event_id"],
        "message": base64.b64encode(message).decode(),
        "franking_key": base64.b64encode(key).decode(),
        "reason": "a threat",
        "policy_item": "violent_threats",
    }
    await api.call("POST", "/v1/reports/messages", bob, json=body)
    case = await case_of(api, mod, "message", sent["event_id"])
    assert case["policy_item"] == "violent_threats"
    assert case["owner"] == alice.username
    assert "I know where you live" in case["snapshot"]["message"]
    assert case["reports"][0]["reporter"] == bob.username
