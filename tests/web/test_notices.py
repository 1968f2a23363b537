"""Notices and the moderation console link in the browser.

The notices API (``GET /v1/notices``, issue 5) is built on another branch; until it is
merged here the page must degrade cleanly: a server without it answers 404 and the app
says there are no notices instead of showing an error. The console link appears only for
moderators and admins (``GET /v1/account`` → ``role``).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.async_api import expect

from kabar.accounts.models import Role
from support.api import PASSWORD
from support.browser import WebUser
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
    try:
        await page.get_by_role("link", name="Notices", exact=True).click()
        await expect(page.locator(".notices")).to_contain_text(
            re.compile("This server has no moderation notices|No notices")
        )
        await expect(page.locator("main .error")).to_have_text("")
        await expect(page.get_by_role("link", name="Moderation console")).to_be_hidden()

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
