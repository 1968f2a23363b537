"""Notices and the moderation console link in the browser.

The notices API (``GET /v1/notices``, issue 5) is built on another branch; until it is
merged here the page must degrade cleanly: a server without it answers 404 and the app
says there are no notices instead of showing an error. The console link appears only for
moderators and admins (``GET /v1/account`` → ``role``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from kabar.accounts.models import Role
from support.api import PASSWORD
from support.browser import WebUser
from support.server import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")


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
