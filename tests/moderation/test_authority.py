"""The authority-requests register over HTTP, and when its entries reach the public log."""

from __future__ import annotations

from typing import Any

import pytest

from kabar.moderation.authority import DAY_MS
from support.api import Api, ApiError, User
from support.server import RunningServer
from support.transparency import make_admin

PATH = "/v1/admin/authority-requests"


def _request(**overrides: Any) -> dict[str, Any]:
    return {
        "requester": "Example City Police",
        "jurisdiction": "Exampleland",
        "legal_basis": "Example Act §12",
        "request": "Remove the public account @someone and disclose its owner.",
        "targets": [{"type": "public_account", "ref": "https://kabar.example/@someone"}],
        "received_at": 1_735_603_380_000,
        **overrides,
    }


_DECISION = {
    "decision": "no_action",
    "policy_item": "violent_threats",
    "summary": "Request to remove a public account; no violation found.",
    "actions_taken": "Reviewed the account's last 50 articles.",
}


async def _log(api: Api) -> list[dict[str, Any]]:
    page = await api.call("GET", "/transparency/log")
    return [item["entry"] for item in page["entries"]]


async def test_only_admins_keep_the_register(server: RunningServer, api: Api) -> None:
    user = await api.register()
    moderator = await api.register()
    from kabar.accounts.models import Role

    await server.services.accounts.set_role(moderator.account_id, Role.MODERATOR)
    for who in (user, moderator):
        with pytest.raises(ApiError) as caught:
            await api.call("POST", PATH, who, json=_request())
        assert (caught.value.status, caught.value.code) == (403, "insufficient_role")
        with pytest.raises(ApiError) as caught:
            await api.call("GET", PATH, who)
        assert caught.value.status == 403
    with pytest.raises(ApiError) as caught:
        await api.call("GET", PATH)
    assert caught.value.status == 401


async def test_a_decided_request_is_logged_at_once_without_delay(
    server: RunningServer, api: Api
) -> None:
    admin = await make_admin(api, server.services)
    person = await api.register()
    targets = [
        {"type": "account", "ref": "@" + person.username},
        {"type": "public_account", "ref": "https://kabar.example/@someone"},
    ]
    created = await api.call("POST", PATH, admin, json=_request(targets=targets))
    assert created["status"] == "pending"
    assert created["targets"][0] == {"type": "account", "ref": person.account_id}
    assert await _log(api) == []

    decided = await api.call("PATCH", f"{PATH}/{created['id']}", admin, json=_DECISION)
    assert decided["status"] == "decided"
    assert decided["published"] is True
    assert decided["log_seq"] == 0
    [entry] = await _log(api)
    assert entry["kind"] == "authority_request"
    assert entry["source"] == "authority"
    assert entry["action"] == "no_action"
    assert entry["authority"]["name"] == "Example City Police (Exampleland)"
    assert entry["authority"]["received_ms"] == 1_735_603_380_000
    # The private account is named by a keyed hash of its id, never its username.
    assert entry["target"]["type"] == "account"
    assert entry["target"]["ref"] == server.services.transparency.private_ref(person.account_id)
    assert person.username not in str(entry)

    with pytest.raises(ApiError) as caught:
        await api.call("PATCH", f"{PATH}/{created['id']}", admin, json=_DECISION)
    assert (caught.value.status, caught.value.code) == (409, "authority_request_published")
    listed = await api.call("GET", PATH, admin, params={"status": "decided"})
    assert [r["id"] for r in listed["requests"]] == [created["id"]]


async def test_the_authority_request_delay_is_respected(server: RunningServer, api: Api) -> None:
    admin = await make_admin(api, server.services)
    authority = server.services.authority
    start = authority.clock()
    authority.clock = lambda: start
    created = await api.call("POST", PATH, admin, json=_request(publish_delay_days=30))
    decided = await api.call("PATCH", f"{PATH}/{created['id']}", admin, json=_DECISION)
    assert decided["published"] is False
    assert decided["publish_after"] == start + 30 * DAY_MS

    # Still private a moment before the delay ends: not logged, not in any head or report.
    authority.clock = lambda: start + 30 * DAY_MS - 1
    assert await _log(api) == []
    head = await api.call("GET", "/transparency/log/head")
    assert head["head"]["tree_size"] == 0
    report = await api.call("GET", "/transparency/report.json")
    assert report["authority_requests"]["total"] == 0
    # Correctable until then (here: a longer delay).
    longer = {**_DECISION, "publish_delay_days": 31}
    decided = await api.call("PATCH", f"{PATH}/{created['id']}", admin, json=longer)
    assert decided["publish_after"] == start + 31 * DAY_MS

    authority.clock = lambda: start + 31 * DAY_MS
    [entry] = await _log(api)
    assert entry["kind"] == "authority_request"
    report = await api.call("GET", "/transparency/report.json")
    assert report["authority_requests"]["total"] == 1
    record = await api.call("GET", f"{PATH}/{created['id']}", admin)
    assert record["published"] is True
    assert record["log_seq"] == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (_request(targets=[{"type": "group", "ref": "x"}]), 400),
        (_request(targets=[{"type": "article", "ref": "not a url"}]), 400),
        (_request(targets=[{"type": "account", "ref": "@nobody_here"}]), 404),
        (_request(targets=[]), 400),
        (_request(request="two\nlines"), 400),
        (_request(publish_delay_days=-1), 400),
    ],
)
async def test_malformed_requests_are_refused(
    server: RunningServer, api: Api, body: dict[str, Any], status: int
) -> None:
    admin = await make_admin(api, server.services)
    with pytest.raises(ApiError) as caught:
        await api.call("POST", PATH, admin, json=body)
    assert caught.value.status == status


async def test_bad_decisions_are_refused(server: RunningServer, api: Api) -> None:
    admin: User = await make_admin(api, server.services)
    created = await api.call("POST", PATH, admin, json=_request())
    for change in ({"policy_item": "no_such_item"}, {"decision": "delete_everything"}):
        with pytest.raises(ApiError) as caught:
            await api.call("PATCH", f"{PATH}/{created['id']}", admin, json={**_DECISION, **change})
        assert caught.value.status == 400
    with pytest.raises(ApiError) as caught:
        await api.call("PATCH", f"{PATH}/g_{'a' * 26}", admin, json=_DECISION)
    assert (caught.value.status, caught.value.code) == (404, "authority_request_not_found")
    assert await _log(api) == []


async def test_the_register_and_hash_list_imports_are_in_the_audit_log(
    server: RunningServer, api: Api
) -> None:
    admin = await make_admin(api, server.services)
    created = await api.call("POST", PATH, admin, json=_request())
    await api.call("PATCH", f"{PATH}/{created['id']}", admin, json=_DECISION)
    csv = b"type,value,list,action\nsha256," + b"ab" * 32 + b",known-bad,open_case\n"
    await api.call(
        "POST",
        "/v1/admin/hash-lists/import",
        admin,
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    audit = await api.call("GET", "/v1/admin/audit", admin)
    assert [(e["actor"], e["action"], e["subject"]) for e in audit["entries"][:3]] == [
        (admin.username, "hash_lists.import", "known-bad"),
        (admin.username, "authority.decide", created["id"]),
        (admin.username, "authority.record", created["id"]),
    ]
