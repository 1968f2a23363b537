"""The authority-requests register in the console: admins add requests and record decisions."""

from __future__ import annotations

import re

from kabar.accounts.models import Role
from support.api import Api
from support.console import Console, assert_console_page, make_moderator
from support.server import RunningServer

REQUEST_LINK = re.compile(r'href="/console/authority-requests/(g_[^"?]+)"')
REQUEST = {
    "requester": "Metropolitan Police",
    "jurisdiction": "United Kingdom",
    "legal_basis": "Investigatory Powers Act 2016, s. 61",
    "request": "Subscriber data for the account, and removal of the article.",
    "received": "2026-11-20",
    "publish_delay_days": "0",
}


async def test_an_admin_records_a_request_and_its_decision_which_is_then_logged(
    server: RunningServer, api: Api
) -> None:
    admin = await make_moderator(server, api, Role.ADMIN)
    subject = await api.register()
    async with Console(server.base_url) as browser:
        assert (await browser.login(admin.username)).status_code == 303
        page = assert_console_page(await browser.get("/console/authority-requests"))
        assert "/console/authority-requests" in page.nav_links()
        assert "No requests recorded." in (await browser.get("/console/authority-requests")).text

        bad = await browser.submit(
            "/console/authority-requests",
            "/console/authority-requests",
            {**REQUEST, "targets": "account"},
        )
        assert_console_page(bad, status=400)
        assert "Target line 1" in bad.text
        assert "Metropolitan Police" in bad.text  # what was typed is kept

        added = await browser.submit(
            "/console/authority-requests",
            "/console/authority-requests",
            {**REQUEST, "targets": f"account @{subject.username}\n\n"},
        )
        assert added.status_code == 303, added.text[:500]
        detail = await browser.get(added.headers["location"])
        assert_console_page(detail)
        assert "Request recorded." in detail.text
        assert "Investigatory Powers Act 2016" in detail.text
        assert "20 November 2026" in detail.text
        request_id = REQUEST_LINK.findall(
            (await browser.get("/console/authority-requests?status=pending")).text
        )
        assert len(request_id) == 1
        path = f"/console/authority-requests/{request_id[0]}"

        no_summary = await browser.submit(
            path,
            f"{path}/decision",
            {"decision": "disclose_data", "policy_item": "violent_threats", "summary": ""},
        )
        assert_console_page(no_summary, status=400)
        decided = await browser.submit(
            path,
            f"{path}/decision",
            {
                "decision": "disclose_data",
                "policy_item": "violent_threats",
                "summary": "Subscriber data disclosed under a valid order.",
                "actions_taken": "Exported the account's registration date.",
            },
        )
        assert decided.status_code == 303, decided.text[:500]
        done = await browser.get(path)
        assert "In the public transparency log as entry #" in done.text
        assert "Save decision" not in done.text  # published: no more changes
    log = (await api.http.get("/transparency/log")).json()
    assert "Subscriber data disclosed under a valid order." in str(log)
    assert subject.username not in str(log)  # a private account appears only hashed


async def test_a_delayed_request_stays_out_of_the_log(server: RunningServer, api: Api) -> None:
    admin = await make_moderator(server, api, Role.ADMIN)
    async with Console(server.base_url) as browser:
        assert (await browser.login(admin.username)).status_code == 303
        added = await browser.submit(
            "/console/authority-requests",
            "/console/authority-requests",
            {**REQUEST, "publish_delay_days": "30", "targets": "article https://example.org/a"},
        )
        assert added.status_code == 303, added.text[:500]
        path = added.headers["location"].split("?")[0]
        decided = await browser.submit(
            path,
            f"{path}/decision",
            {"decision": "no_action", "policy_item": "other", "summary": "Declined: no basis."},
        )
        assert decided.status_code == 303
        page = await browser.get(path)
        assert "Published after" in page.text
        assert "Correct the decision" in page.text
    assert "Declined: no basis." not in str((await api.http.get("/transparency/log")).json())


async def test_moderators_may_not_use_the_register(server: RunningServer, api: Api) -> None:
    moderator = await make_moderator(server, api)
    async with Console(server.base_url) as browser:
        assert (await browser.login(moderator.username)).status_code == 303
        refused = await browser.get("/console/authority-requests")
        assert_console_page(refused, status=403)
        assert "Only admins" in refused.text
        page = assert_console_page(await browser.get("/console"))
        assert "/console/authority-requests" not in page.nav_links()
