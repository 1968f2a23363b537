"""Driving the web app in Debian's Chromium with Playwright (tests/web, docs/web.md).

``launch_chromium`` starts ``/usr/bin/chromium`` headless (never a downloaded browser);
:class:`WebUser` is one person in one browser context, with the few gestures the tests
need, all made through the app's visible, labelled controls.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from kabar.http.webapp import APP_DIR
from support.api import PASSWORD, unique_name

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


def missing_requirement() -> str | None:
    """Why browser tests cannot run here, or None if they can."""
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        return "no /usr/bin/chromium (apt-get install chromium; .ci/run does)"
    if not (APP_DIR / "index.html").is_file():
        return "the web app is not built (make install runs npm ci and the build)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


def chromium_path() -> str | None:
    return str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")


async def launch_chromium(playwright: Any) -> Any:
    return await playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )


class WebUser:
    """One account signed in on one browser context."""

    def __init__(self, context: Any, page: Any, base_url: str, username: str) -> None:
        self.context = context
        self.page = page
        self.base_url = base_url
        self.username = username
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        # A Content-Security-Policy violation is a bug even if the app still works.
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(message.text)

    @classmethod
    async def sign_up(
        cls,
        browser: Any,
        base_url: str,
        prefix: str = "web",
        viewport: dict[str, int] | None = None,
    ) -> WebUser:
        context = await browser.new_context(viewport=viewport or {"width": 1100, "height": 760})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        user = cls(context, page, base_url, unique_name(prefix))
        await page.goto(f"{base_url}/app/")
        form = page.locator("form", has=page.get_by_role("heading", name="Create an account"))
        await form.get_by_label("Username").fill(user.username)
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_role("button", name="Create account").click()
        await user.wait_online()
        return user

    async def wait_online(self) -> None:
        from playwright.async_api import expect

        await expect(self.page.locator(".connection")).to_have_text("online")

    async def open_direct(self, username: str) -> str:
        page = self.page
        await page.get_by_role("link", name="New chat").click()
        form = page.locator("form", has=page.get_by_role("heading", name="Chat with someone"))
        await form.get_by_label("Username").fill(username)
        await form.get_by_role("button", name="Open chat").click()
        await page.wait_for_url(re.compile(r".*#/c/c_[^/]+$"))
        return str(page.url.rsplit("/", 1)[1])

    async def create_group(self, title: str, usernames: list[str]) -> str:
        page = self.page
        await page.get_by_role("link", name="New chat").click()
        form = page.locator("form", has=page.get_by_role("heading", name="New group"))
        await form.get_by_label("Title").fill(title)
        await form.get_by_label("Members").fill(", ".join(usernames))
        await form.get_by_role("button", name="Create group").click()
        await page.wait_for_url(re.compile(r".*#/c/c_[^/]+$"))
        return str(page.url.rsplit("/", 1)[1])

    async def open(self, conversation_id: str) -> None:
        link = self.page.locator(f'a[data-conversation="{conversation_id}"]')
        if await link.is_visible():
            await link.click()
        else:  # a phone-sized screen shows the chat without the list
            await self.page.evaluate("id => { location.hash = `#/c/${id}`; }", conversation_id)
        await self.page.wait_for_url(re.compile(f".*#/c/{conversation_id}$"))

    async def send(self, text: str) -> None:
        box = self.page.get_by_label("Message", exact=True)
        await box.fill(text)
        await box.press("Enter")

    def message(self, text: str) -> Any:
        return self.page.locator(".timeline .message:not(.pending)", has_text=text)

    async def expect_message(self, text: str, wait_ms: float = TIMEOUT_MS) -> None:
        from playwright.async_api import expect

        await expect(self.message(text)).to_have_count(1, timeout=wait_ms)

    async def bodies(self) -> list[str]:
        texts = await self.page.locator(
            ".timeline .message:not(.pending) .body"
        ).all_text_contents()
        return [str(t) for t in texts]

    async def unread(self, conversation_id: str) -> str:
        badge = self.page.locator(f'a[data-conversation="{conversation_id}"] .unread')
        return str(await badge.text_content()) if await badge.count() else "0"

    async def safety_number(self, conversation_id: str, username: str) -> str:
        page = self.page
        await page.goto(f"{self.base_url}/app/#/c/{conversation_id}/info")
        member = page.locator(f'li[data-member="{username}"]')
        await member.get_by_role("button", name="Safety number").click()
        number = member.get_by_label(f"Safety number with {username}")
        return str(await number.text_content())

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def close(self) -> None:
        await self.context.close()
