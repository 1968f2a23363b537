"""A browser-like client of the moderation console: a cookie jar, forms and their CSRF tokens."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

import httpx

from kabar.accounts.models import Role
from kabar.client.http import tls_context
from support.api import PASSWORD, Api, User
from support.public import create_account, publish_new
from support.server import RunningServer

CASE_LINK = re.compile(r'href="/console/cases/([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return unescape(match.group(1))


class Console:
    """One browser: keeps the console's cookies like a browser would (per path)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=60, follow_redirects=False, verify=tls_context()
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Console:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        form = await self.http.get("/console/login")
        assert form.status_code == 200, form.text[:300]
        return await self.http.post(
            "/console/login",
            data={"username": username, "password": password, "csrf": csrf_of(form.text)},
        )

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(path)

    async def submit_from(self, html: str, action: str, data: Any = None) -> httpx.Response:
        """Post ``data`` to ``action`` with the CSRF token of a page already loaded."""
        return await self.http.post(action, data={**(data or {}), "csrf": csrf_of(html)})

    async def submit(
        self, page: str, action: str, data: dict[str, Any], files: Any = None
    ) -> httpx.Response:
        """Load ``page``, then post ``data`` to ``action`` with the page's CSRF token."""
        loaded = await self.http.get(page)
        assert loaded.status_code == 200, loaded.text[:300]
        return await self.http.post(
            action, data={**data, "csrf": csrf_of(loaded.text)}, files=files
        )


async def make_moderator(
    server: RunningServer, api: Api, role: Role = Role.MODERATOR, username: str | None = None
) -> User:
    user = await api.register(username)
    await server.services.accounts.set_role(user.account_id, role)
    return user


async def reported_article(
    api: Api, note: str = "buy cheap pills"
) -> tuple[User, User, dict[str, Any]]:
    """An article by its author, reported as spam by a reader: (author, reader, article)."""
    author, reader = await api.register(), await api.register()
    await api.publish_keys(author)
    handle = (await create_account(api, author, name="Pill Palace"))["handle"]
    article = await publish_new(api, author, handle, "# Cheap pills\n\nBuy now, buy often.")
    article["handle"] = handle
    await api.call(
        "POST",
        "/v1/moderation/reports",
        reader,
        json={
            "target": {"type": "article", "id": article["id"]},
            "policy_item": "spam",
            "note": note,
        },
    )
    return author, reader, article


async def case_id_for(browser: Console, label: str) -> str:
    queue = await browser.get("/console")
    assert_console_page(queue)
    assert label in queue.text
    ids = CASE_LINK.findall(queue.text)
    assert len(ids) == 1, ids
    return ids[0]


class Page(HTMLParser):
    """The tags of a console page, with their attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._in_nav = False
        self._nav: set[str] = set()
        self.post_forms: list[dict[str, str]] = []  # action and whether a csrf field is inside
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if tag == "form" and values.get("method", "").lower() == "post":
            self.post_forms.append({"action": values.get("action", ""), "csrf": ""})
        elif tag == "input" and values.get("name") == "csrf" and self.post_forms:
            self.post_forms[-1]["csrf"] = values.get("value", "")
        if tag == "nav":
            self._in_nav = True
        elif tag == "a" and self._in_nav:
            self._nav.add(values.get("href", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_nav = False

    def nav_links(self) -> set[str]:
        return set(self._nav)

    def landmarks(self) -> set[str]:
        return {tag for tag, _ in self.tags if tag in ("header", "nav", "main", "footer")}


ACTIVE_TAGS = {"script", "iframe", "object", "embed", "style", "base", "frame", "applet"}


def assert_console_page(response: httpx.Response, status: int = 200) -> Page:
    """A console page: HTML under the strict CSP, never cached, no script, labelled fields."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert {"header", "main", "footer"} <= page.landmarks()
    labelled = {attrs.get("for") for tag, attrs in page.tags if tag == "label"}
    for tag, attrs in page.tags:
        assert tag not in ACTIVE_TAGS, tag
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        if tag in ("input", "select", "textarea") and attrs.get("type") not in (
            "hidden",
            "submit",
        ):
            assert attrs.get("id") in labelled or "aria-label" in attrs, (tag, attrs)
    for form in page.post_forms:
        assert form["csrf"], f"the form posting to {form['action']} has no CSRF token"
    return page
