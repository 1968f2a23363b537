"""The open web: every page answers 200 with its meta tags, a strict CSP and no script;
Atom and RSS parse; hostile articles and profiles render inert."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import feedparser
import httpx

from public.test_render_xss import PAYLOADS
from support.api import Api, User
from support.public import create_account, publish, publish_new

ARTICLE = """# Harbour report

The *tide* came in — and with it, the [fleet](https://example.org/fleet).

| boat | catch |
|---|---:|
| Aurora | 120 kg |

A footnote.[^1]

[^1]: Weighed at the quay.
"""


class Page(HTMLParser):
    """Everything a page's HTML declares: tags with attributes, meta tags, links."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def meta(self, key: str) -> str | None:
        for tag, attrs in self.tags:
            if tag == "meta" and (attrs.get("property") == key or attrs.get("name") == key):
                return attrs.get("content")
        return None

    def link(self, rel: str) -> str | None:
        for tag, attrs in self.tags:
            if tag == "link" and attrs.get("rel") == rel:
                return attrs.get("href")
        return None

    def landmarks(self) -> set[str]:
        return {tag for tag, _ in self.tags if tag in ("header", "nav", "main", "footer")}


ACTIVE_TAGS = {"script", "iframe", "object", "embed", "style", "base", "frame", "applet"}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")


def assert_inert(page: Page) -> None:
    """No active content: no script-capable tags, handlers, inline styles or script URLs."""
    for tag, attrs in page.tags:
        assert tag not in ACTIVE_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            assert not value.strip().lower().startswith(SCRIPT_SCHEMES), (tag, name, value)


def assert_page(response: httpx.Response) -> Page:
    """A page as every page must be: HTML, strict CSP and headers, landmarks, inert."""
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    page = Page(response.text)
    assert page.landmarks() == {"header", "nav", "main", "footer"}
    assert all("alt" in attrs for tag, attrs in page.tags if tag == "img"), "images need alt"
    assets = [attrs["href"] for tag, attrs in page.tags if tag == "link" and "href" in attrs]
    assert all(href.startswith("/") or href.startswith("http://127.0.0.1") for href in assets)
    assert_inert(page)
    return page


async def newsroom(api: Api) -> tuple[User, str]:
    editor = await api.register()
    await api.publish_keys(editor)
    handle = (await create_account(api, editor, name="Harbour Gazette", bio="Tides, boats, fish."))[
        "handle"
    ]
    return editor, handle


async def test_every_page_answers_with_its_meta_tags_and_a_strict_csp(api: Api) -> None:
    editor, handle = await newsroom(api)
    article = await publish_new(api, editor, handle, ARTICLE)
    await publish(api, editor, article, markdown=ARTICLE + "\nUpdated at noon.\n")
    home = assert_page(await api.http.get("/"))
    assert home.meta("og:type") == "website"
    assert home.meta("og:title") == "kabar"
    profile_response = await api.http.get(f"/@{handle}")
    profile = assert_page(profile_response)
    assert profile.meta("og:type") == "profile"
    assert profile.meta("og:title") == f"Harbour Gazette (@{handle})"
    assert profile.link("canonical") == article["url"].rsplit("/", 1)[0]
    assert profile.link("alternate") == f"/@{handle}/feed.atom"
    assert "Harbour report" in profile_response.text
    response = await api.http.get(f"/@{handle}/{article['slug']}")
    page = assert_page(response)
    assert page.meta("og:type") == "article"
    assert page.meta("og:title") == "Harbour report"
    assert page.meta("og:url") == article["url"]
    assert page.link("canonical") == article["url"]
    assert (
        page.meta(
            "article:published_time",
        )
        is not None
    )
    assert page.meta("article:modified_time") is not None
    assert (page.meta("description") or "").startswith("The tide came in")
    assert "1 min read" in response.text
    assert f"@{editor.username}" in response.text  # byline and signature
    assert editor.device_id in response.text
    assert editor.olm is not None
    assert editor.olm.ed25519_key.to_base64() in response.text
    assert "Edited" in response.text
    assert '<td class="align-right">120 kg</td>' in response.text
    history = await api.http.get(f"/@{handle}/{article['slug']}/history?revision=1")
    assert_page(history)
    assert "Revision 2" in history.text
    assert "Updated at noon" not in history.text
    assert_page(await api.http.get(f"/@{handle}?before=not-a-cursor"))
    for path in ("/explore", "/explore?q=harbour", "/explore?q=%22unbalanced"):
        assert_page(await api.http.get(path))
    assert "Harbour Gazette" in (await api.http.get("/explore?q=tides")).text
    css = await api.http.get("/static/kabar.css")
    assert (css.status_code, css.headers["content-type"].split(";")[0]) == (200, "text/css")


async def test_unknown_pages_are_html_404s_with_the_same_headers(api: Api) -> None:
    editor, handle = await newsroom(api)
    draft = await api.call(
        "POST", f"/v1/public/accounts/{handle}/articles", editor, json={"markdown": "# Secret"}
    )
    for path in ("/@nobody_at_all", f"/@{handle}/no-such-article", f"/@{handle}/{draft['slug']}"):
        response = await api.http.get(path)
        assert response.status_code == 404, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "Not found" in response.text


async def test_a_hostile_article_and_profile_render_without_any_script(api: Api) -> None:
    editor = await api.register()
    await api.publish_keys(editor)
    hostile = '<script>alert("name")</script><img src=x onerror=alert(1)>'
    handle = (await create_account(api, editor, name=hostile[:100], bio=hostile))["handle"]
    payloads = [p for p in PAYLOADS if "\x00" not in p]
    markdown = "# <script>alert('title')</script>\n\n" + "\n\n".join(payloads)
    article = await publish_new(api, editor, handle, markdown)
    comment = '"><script>alert("comment")</script>'
    await api.call(
        "POST", f"/v1/public/articles/{article['id']}/comments", editor, json={"body": comment}
    )
    for path in (f"/@{handle}/{article['slug']}", f"/@{handle}", "/", f"/explore?q={handle}"):
        response = await api.http.get(path)
        assert_page(response)
        assert "<script" not in response.text.lower(), path
    for feed in ("atom", "rss"):
        parsed = feedparser.parse((await api.http.get(f"/@{handle}/feed.{feed}")).content)
        assert not parsed.bozo
        assert parsed.entries[0].title == "<script>alert('title')</script>"  # text, not markup


async def test_atom_and_rss_parse_with_stable_entries(api: Api) -> None:
    editor, handle = await newsroom(api)
    first = await publish_new(api, editor, handle, ARTICLE)
    second = await publish_new(api, editor, handle, "# Second report\n\nCalm seas.")
    feeds: dict[str, Any] = {}
    for kind, media_type in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
        response = await api.http.get(f"/@{handle}/feed.{kind}")
        assert response.headers["content-type"].startswith(media_type)
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.feed.title == "Harbour Gazette"
        assert [e.title for e in parsed.entries] == ["Second report", "Harbour report"]
        assert [e.link for e in parsed.entries] == [second["url"], first["url"]]
        assert "120 kg" in parsed.entries[1].content[0].value
        assert parsed.entries[1].author == editor.username
        feeds[kind] = parsed
    ids = [e.id for e in feeds["atom"].entries]
    assert all(
        i.startswith("tag:127.0.0.1,") and i.endswith(first["id"]) is (n == 1)
        for n, i in enumerate(ids)
    )
    await publish(api, editor, first, markdown=ARTICLE + "\nCorrection.\n")
    again = feedparser.parse((await api.http.get(f"/@{handle}/feed.atom")).content)
    assert [e.id for e in again.entries] == ids  # an edit keeps the entry id
    assert (await api.http.get("/@nobody_at_all/feed.atom")).status_code == 404


async def test_reading_a_page_counts_a_view(api: Api) -> None:
    editor, handle = await newsroom(api)
    article = await publish_new(api, editor, handle, ARTICLE)
    for _ in range(3):
        await api.http.get(f"/@{handle}/{article['slug']}")
    listed = await api.call("GET", f"/v1/public/accounts/{handle}/articles")
    assert listed["articles"][0]["view_count"] == 1
