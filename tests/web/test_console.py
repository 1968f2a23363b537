"""The moderation console in a real browser on a phone-sized screen: sign in, work a case.

The forms are driven through their visible labels; every page must fit the screen
without sideways scrolling and log no errors (a CSP violation would be one).
"""

from __future__ import annotations

from typing import Any

import pytest

from kabar.accounts.models import Role
from support.api import Api
from support.browser import PHONE, TIMEOUT_MS
from support.console import reported_article
from support.server import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")  # the server and browser are per module


async def fits_the_screen(page: Any) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


async def test_a_moderator_works_a_case_on_a_phone(web_server: RunningServer, browser: Any) -> None:
    async with Api(web_server.base_url) as api:
        _, reader, article = await reported_article(api)
        moderator = await api.register()
        await web_server.services.accounts.set_role(moderator.account_id, Role.MODERATOR)
        public_page = f"/@{article['handle']}/{article['slug']}"
        context = await browser.new_context(viewport=PHONE, base_url=web_server.base_url)
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            await page.goto("/console")
            assert page.url.endswith("/console/login?next=/console")
            await fits_the_screen(page)
            await page.get_by_label("Username").fill(moderator.username)
            await page.get_by_label("Password").fill(moderator.password)
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_role("heading", name="Moderation queue").wait_for()
            await fits_the_screen(page)
            await page.get_by_role("link", name="Cheap pills").click()
            await page.get_by_role("heading", name="The content as reported").wait_for()
            await fits_the_screen(page)
            assert await page.get_by_text(f"@{reader.username}").count() == 1
            await page.get_by_label("Policy item and action").select_option("spam:remove_content")
            await page.get_by_label("Rationale (required)").fill("Commercial spam.")
            await page.get_by_role("button", name="Take this action").click()
            await page.get_by_text("Action taken.").wait_for()
            await fits_the_screen(page)
            for link in ("Appeals", "Transparency"):
                await (
                    page.get_by_role("navigation", name="Console")
                    .get_by_role("link", name=link)
                    .click()
                )
                await page.wait_for_load_state()
                await fits_the_screen(page)
            assert errors == []
        finally:
            await context.close()
        assert (await api.http.get(public_page)).status_code == 404
