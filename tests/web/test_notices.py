"""Notices and appeals in the browser, and the moderation console link.

A moderator's action reaches the affected account's open browser live (the stream event
``moderation.notice``) and is appealed from there (``POST /v1/notices/{id}/appeal``). The
UI is also checked against the HTTP contract with answers the test controls, and it must
degrade cleanly on a server without the notices API (404). The console link appears only
for moderators and admins (``GET /v1/account`` → ``role``).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.async_api import expect

from kabar.accounts.models import Role
from support.api import PASSWORD, Api
from support.browser import WebUser
from support.moderation import act, case_of, moderator, report
from support.server import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

DAY_MS = 86_400_000


def notice(notice_id: str, action: str, appeal: str, deadline_days: int) -> dict[str, Any]:
    """A notice shaped exactly as the moderation contract (issue 5) says."""
    now = int(time.time() * 1000)
    return {
        "id": notice_id,
        "created_at": now - DAY_MS,
        "action": action,
        "policy_item": {"id": "spam", "title": "Spam and scams"},
        "target": {
            "type": "article",
            "id": f"a_{notice_id}",
            "label": f"Cheap watches {notice_id}",
            "url": "/@shop/cheap-watches",
        },
        "rationale": f"Repeated unsolicited advertising ({notice_id}).",
        "label": None,
        "duration_days": None,
        "appeal": {
            "deadline": now + deadline_days * DAY_MS,
            "status": appeal,
            "decided_at": now if appeal in ("granted", "denied") else None,
            "rationale": "The rule was applied correctly." if appeal == "denied" else None,
        },
    }


async def test_notices_show_per_the_contract_and_an_appeal_is_sent(
    browser: Any, web_server: RunningServer
) -> None:
    """The UI against the HTTP contract, with the two endpoints answered by the test."""
    web = await WebUser.sign_up(browser, web_server.base_url, "noticed")
    page = web.page
    notices = [notice("n1", "remove", "none", 29), notice("n2", "label", "denied", 10)]
    appeals: list[dict[str, Any]] = []

    async def list_notices(route: Any) -> None:
        await route.fulfill(json={"notices": notices})

    async def appeal(route: Any) -> None:
        appeals.append({"url": route.request.url, **json.loads(route.request.post_data)})
        notices[0]["appeal"]["status"] = "pending"
        await route.fulfill(status=201, json={"id": "ap1", "status": "pending"})

    await page.route("**/v1/notices", list_notices)
    await page.route("**/v1/notices/*/appeal", appeal)
    try:
        await page.get_by_role("link", name="Notices", exact=True).click()
        first = page.locator('[data-notice="n1"]')
        await expect(first).to_contain_text("Content removed: Cheap watches n1")
        await expect(first).to_contain_text("rule: Spam and scams")
        await expect(first).to_contain_text("Repeated unsolicited advertising (n1).")
        denied = page.locator('[data-notice="n2"]')
        await expect(denied).to_contain_text("Appeal denied")
        await expect(denied).to_contain_text("The rule was applied correctly.")
        await expect(denied.get_by_text(re.compile("^Appeal \\(until"))).to_have_count(0)

        await first.get_by_text(re.compile("^Appeal \\(until")).click()
        await first.get_by_label("Your appeal: why this decision is wrong").fill(
            "These are my own photos of my own shop."
        )
        await web.screenshot("desktop-notices")
        await first.get_by_role("button", name="Send appeal").click()
        await expect(first).to_have_attribute("data-appeal", "pending")
        await expect(first).to_contain_text("Appeal sent")
        assert appeals == [
            {
                "url": f"{web_server.base_url}/v1/notices/n1/appeal",
                "statement": "These are my own photos of my own shop.",
            }
        ]
        assert web.errors == []
    finally:
        await web.close()


async def test_notices_degrade_cleanly_and_moderators_get_a_console_link(
    browser: Any, web_server: RunningServer
) -> None:
    web = await WebUser.sign_up(browser, web_server.base_url, "mod")
    page = web.page

    async def absent(route: Any) -> None:  # a server without moderation
        await route.fulfill(status=404, json={"title": "Not Found", "status": 404})

    await page.route("**/v1/notices", absent)
    try:
        await page.get_by_role("link", name="Notices", exact=True).click()
        await expect(page.locator(".notices")).to_have_text(
            "This server has no moderation notices."
        )
        await expect(page.locator("main .error")).to_have_text("")
        await expect(page.get_by_role("link", name="Moderation console")).to_be_hidden()

        await page.unroute("**/v1/notices")
        account = await web_server.services.accounts.profile(web.username)
        await web_server.services.accounts.set_role(account.account_id, Role.MODERATOR)
        await page.reload()
        form = page.locator("form", has=page.get_by_role("heading", name="Unlock"))
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_role("button", name="Unlock").click()
        await web.wait_online()
        console = page.get_by_role("link", name="Moderation console")
        await expect(console).to_be_visible()
        await expect(console).to_have_attribute("href", "/console")
        await web.screenshot("desktop-notices-moderator")
        assert web.errors == []
    finally:
        await web.close()


async def test_a_moderators_action_arrives_live_and_is_appealed_from_the_browser(
    browser: Any, web_server: RunningServer
) -> None:
    web = await WebUser.sign_up(browser, web_server.base_url, "author")
    page = web.page
    api = Api(web_server.base_url)
    try:
        reporter = await api.register()
        mod = await moderator(api, web_server)
        account = await web_server.services.accounts.profile(web.username)
        await page.get_by_role("link", name="Notices", exact=True).click()
        await expect(page.locator(".notices")).to_have_text(re.compile("^No notices"))

        await report(api, reporter, "account", web.username, "spam", note="floods everyone")
        case = await case_of(api, mod, "account", account.account_id)
        await act(api, mod, case["id"], "restrict_publishing", duration_days=7)

        item = page.locator(".notice-item")
        await expect(item).to_have_count(1)
        await expect(item).to_contain_text("Publishing restricted")
        await expect(item).to_contain_text("for 7 days")
        await expect(item).to_contain_text("restrict_publishing under spam")
        await expect(
            page.get_by_role("status").filter(has_text="A new notice arrived.")
        ).to_be_visible()
        await expect(page.locator('a[data-section="notices"] .unread')).to_have_text("1")

        await item.get_by_text(re.compile("^Appeal \\(until")).click()
        await item.get_by_label("Your appeal: why this decision is wrong").fill(
            "I post once a day."
        )
        await item.get_by_role("button", name="Send appeal").click()
        await expect(item).to_have_attribute("data-appeal", "pending")
        await expect(page.locator('a[data-section="notices"] .unread')).to_be_hidden()
        await web.screenshot("desktop-notice-appealed")
        pending = await api.call("GET", "/v1/moderation/appeals?status=pending", mod)
        assert [a["statement"] for a in pending["appeals"]] == ["I post once a day."]
        assert web.errors == []
    finally:
        await api.close()
        await web.close()
