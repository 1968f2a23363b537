"""The public side in a browser: explore and search, subscribe, the feed updated live, reading
a signed article, and an editor writing, previewing, scheduling and publishing — the
revision signed in the browser with its Olm account's Ed25519 key and accepted by the
server, the open web and the SDK's verifier."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import expect

from kabar.client.public_models import KeyCheck
from kabar.client.public_reader import locate
from kabar.public.canonical import ArticleRevision, verify_revision
from support.api import PASSWORD, Api
from support.browser import PHONE, WebUser
from support.clients import People
from support.moderation import act, case_of, moderator
from support.public import unique_handle
from support.server import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def test_a_subscriber_finds_an_account_and_sees_a_new_article_live(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    owner = await people.register("owner")
    handle = unique_handle("daily")
    await owner.public.create(handle, "The Daily Example", kind="media", bio="News, daily.")
    for n in range(11):  # more than a page (10): the feed needs "Load more"
        await owner.public.publish(handle, f"# Yesterday's news {n}\n\nIt happened.")
    reader = await WebUser.sign_up(browser, web_server.base_url, "reader", viewport=PHONE)
    page = reader.page
    try:
        # The keyboard reaches the Public section from the chat list.
        for _ in range(10):
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement.textContent.trim()") == "Public":
                break
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r".*#/p$"))
        await expect(page.get_by_text("Nothing yet: subscribe")).to_be_visible()

        await page.get_by_role("link", name="Explore", exact=True).first.click()
        await page.get_by_label("Search public accounts and articles").fill("Daily Example")
        await page.get_by_role("button", name="Search").click()
        found = page.locator(f'.accounts li[data-handle="{handle}"]')
        await expect(found).to_contain_text("The Daily Example")
        await expect(found).to_contain_text("0 subscribers")
        await reader.screenshot("phone-explore")
        await found.get_by_role("link").click()

        await expect(page.locator(".subscribers")).to_have_text("0 subscribers")
        await page.get_by_role("button", name="Subscribe").click()
        await expect(page.locator(".subscribers")).to_have_text("1 subscriber")
        await expect(page.get_by_label("Notify me of new articles")).to_be_checked()
        assert (await owner.public.account(handle)).subscriber_count == 1

        await page.get_by_role("link", name="Feed", exact=True).click()
        feed = page.locator(".articles .article-card")
        await expect(feed).to_have_count(10)
        await expect(feed.first).to_contain_text("Yesterday's news 10")
        await page.get_by_role("button", name="Load more").click()
        await expect(feed).to_have_count(11)
        await expect(feed.last).to_contain_text("Yesterday's news 0")
        await expect(page.get_by_role("button", name="Load more")).to_be_hidden()

        # Published from Python while the browser watches: it arrives over the stream.
        breaking = await owner.public.publish(handle, "# Breaking: it works\n\nLive, *signed*.")
        await expect(feed).to_have_count(12)
        await expect(feed.first).to_contain_text("Breaking: it works")
        await expect(feed.first).to_have_class(re.compile("fresh"))
        await reader.screenshot("phone-feed-live")

        await feed.first.get_by_role("link", name="Breaking: it works").click()
        article = page.locator("article.article-body")
        await expect(article.locator("h1")).to_have_text("Breaking: it works")
        await expect(article.locator(".content em")).to_have_text("signed")
        await expect(article.locator("[data-signature]")).to_have_attribute(
            "data-signature", "valid"
        )
        await expect(article.locator(".byline")).to_contain_text(f"@{owner.username}")
        like = page.get_by_role("button", name="Like (0)")
        await like.click()
        await expect(page.get_by_role("button", name="Like (1)")).to_have_attribute(
            "aria-pressed", "true"
        )
        await page.get_by_label("Your comment").fill("Great <b>news</b>, thanks!")
        await page.get_by_role("button", name="Post comment").click()
        await expect(page.locator(".comment-body")).to_have_text("Great <b>news</b>, thanks!")
        await reader.screenshot("phone-article")

        # Reported from the browser; a moderator's label is then shown to readers.
        await page.get_by_text("Report this article").click()
        await page.get_by_label("Rule it breaks").select_option(label="Harmful misinformation")
        await page.get_by_label("Note for the moderators (optional)").fill("Check the figures")
        await page.get_by_role("button", name="Send report").click()
        await expect(page.get_by_text("Thank you: the moderators will look at it.")).to_be_visible()
        api = Api(web_server.base_url)
        try:
            mod = await moderator(api, web_server)
            case = await case_of(api, mod, "article", breaking.id)
            assert [(r["policy_item"], r["note"]) for r in case["reports"]] == [
                ("misinformation", "Check the figures")
            ]
            await act(api, mod, case["id"], "label", "misinformation", label="Disputed claims")
        finally:
            await api.close()
        await page.reload()
        unlock = page.locator("form", has=page.get_by_role("heading", name="Unlock"))
        await unlock.get_by_label("Password").fill(PASSWORD)
        await unlock.get_by_role("button", name="Unlock").click()
        await expect(page.get_by_role("note")).to_have_text("Moderator’s label: Disputed claims")
        await expect(page.locator(".comment-body")).to_have_text("Great <b>news</b>, thanks!")
        await expect(page.get_by_role("button", name="Like (1)")).to_be_visible()

        # Unsubscribing is as easy; the account page says so.
        await page.get_by_role("link", name=f"The Daily Example @{handle}").first.click()
        await page.get_by_role("button", name="Unsubscribe").click()
        await expect(page.locator(".subscribers")).to_have_text("0 subscribers")
        assert reader.errors == []
    finally:
        await reader.close()


async def test_an_editor_writes_previews_schedules_and_publishes_signed_in_the_browser(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    owner = await people.register("owner")
    handle = unique_handle("desk")
    await owner.public.create(handle, "The Desk", kind="media")
    editor = await WebUser.sign_up(browser, web_server.base_url, "editor")
    await owner.public.add_member(handle, editor.username, "editor")
    page = editor.page
    markdown = (
        "# Ünïcode — “news” 🎉\n\nFirst *draft* of the\tstory.\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    try:
        await page.get_by_role("link", name="Public", exact=True).click()
        await page.get_by_role("link", name="Write", exact=True).click()
        account = page.locator(f'li[data-handle="{handle}"]')
        await account.get_by_role("link", name=f"The Desk @{handle}").click()
        await page.get_by_role("link", name="New article").click()

        await page.get_by_label("Markdown").fill(markdown)
        preview = page.get_by_role("region", name="Preview")
        await expect(preview.locator("h1")).to_have_text("Ünïcode — “news” 🎉")
        await expect(preview.locator("em")).to_have_text("draft")
        await expect(preview.locator("td")).to_have_count(2)
        await page.get_by_role("button", name="Save draft").click()
        await expect(page.get_by_role("status").filter(has_text="Draft saved.")).to_be_visible()
        await expect(page.locator(".article-state")).to_contain_text("draft")
        await editor.screenshot("desktop-editor")

        await page.get_by_role("button", name="Publish", exact=True).click()
        await expect(page.get_by_text("Published, signed by this device.")).to_be_visible()
        await expect(page.locator(".article-state")).to_contain_text("published")

        # Another article, scheduled for tomorrow, then cancelled (unpublished).
        await page.get_by_role("link", name="Back").click()
        published_list = page.locator(".drafts").nth(1)
        await expect(published_list.locator("li")).to_have_text(
            re.compile("^Ünïcode — “news” 🎉 · published")
        )
        await page.get_by_role("link", name="New article").click()
        await page.get_by_label("Markdown").fill("# Tomorrow's piece\n\nNot yet.\n\n")
        await page.get_by_label("Insert image").set_input_files(
            files=[{"name": "harbour.png", "mimeType": "image/png", "buffer": png(80, 60)}]
        )
        await expect(page.get_by_text("Image inserted.")).to_be_visible()
        await expect(page.get_by_label("Markdown")).to_have_value(
            re.compile(r"Not yet\.\n\n!\[harbour\]\(/media/[^)]+\)$")
        )
        image = preview.locator("img")
        await expect(image).to_have_attribute("src", re.compile("^/media/"))
        await expect(image).to_have_js_property("complete", True)
        assert await image.evaluate("img => img.naturalWidth") > 0
        await page.get_by_label("Publish at (your time)").fill("2099-01-01T09:30")
        await page.get_by_role("button", name="Schedule").click()
        await expect(page.get_by_text(re.compile("^Scheduled for"))).to_be_visible()
        await expect(page.locator(".article-state")).to_contain_text("scheduled")
        drafts = await owner.public.drafts(handle)
        assert [(a.title, a.status) for a in drafts] == [("Tomorrow's piece", "scheduled")]
        await page.get_by_role("button", name="Unpublish").click()  # cancels the schedule
        await expect(page.locator(".article-state")).to_have_text("draft · revision 0")
        await page.get_by_role("link", name="Back").click()
        await expect(page.locator(".drafts").first.locator("li")).to_have_text(
            "Tomorrow's piece · draft"
        )

        published = await owner.public.articles(handle)
        [article] = published.articles
        assert article.markdown is None or article.markdown == markdown
        full = await owner.public.article(handle, article.slug)
        assert full.markdown == markdown
        signature = full.signature
        assert signature is not None
        assert signature.account == editor.username
        # The server accepted it, and so does an independent check of the signed bytes…
        assert verify_revision(
            ArticleRevision(
                handle=handle,
                slug=full.slug,
                title=full.title,
                markdown=markdown,
                revision=1,
                published_at=datetime.fromisoformat(signature.published_at),
                device_id=signature.device_id,
                account=editor.username,
            ),
            ed25519_key=signature.ed25519,
            signature=signature.signature,
        )
        # …and the SDK's verifier, which also finds the key in the directory.
        verdict = await owner.public.verify_location(locate(full.url))
        assert verdict.ok, verdict.problems
        assert verdict.key in (KeyCheck.LISTED, KeyCheck.VERIFIED)

        # The open web shows it, with its signature.
        async with httpx.AsyncClient() as http:
            shown = await http.get(f"{web_server.base_url}/@{handle}/{full.slug}")
        assert shown.status_code == 200
        assert "Ünïcode — “news” 🎉" in shown.text
        assert signature.signature in shown.text

        # In the app, the article reads as signed by this very device.
        await page.goto(f"{web_server.base_url}/app/#/p/@{handle}/{full.slug}")
        await expect(page.locator("[data-signature]")).to_have_attribute("data-signature", "valid")
        await expect(page.locator("[data-signature]")).to_contain_text(signature.device_id)
        await editor.screenshot("desktop-article")

        # An edit is the next revision, signed the same way; readers see it marked edited.
        await page.goto(f"{web_server.base_url}/app/#/p/write/@{handle}/{full.id}")
        await expect(page.get_by_label("Markdown")).to_have_value(markdown)
        await page.get_by_label("Markdown").fill(markdown + "\n\nUpdate: *corrected*.")
        await page.get_by_role("button", name="Publish edit").click()
        await expect(page.locator(".article-state")).to_contain_text("revision 2")
        await page.get_by_role("link", name="View article").click()
        await expect(page.locator(".byline .edited")).to_be_visible()
        await expect(page.locator("[data-signature]")).to_have_attribute("data-signature", "valid")
        await expect(page.locator("[data-signature]")).to_contain_text("revision 2")
        edited = await owner.public.verify_location(locate(full.url))
        assert edited.ok, edited.problems
        assert edited.revision == 2

        # A server (or anything in between) that changes the text is caught in the browser.
        async def tamper(route: Any) -> None:
            response = await route.fetch()
            body = await response.json()
            body["markdown"] = body["markdown"].replace("corrected", "c0rrected")
            await route.fulfill(response=response, json=body)

        await page.route(f"**/v1/public/accounts/{handle}/articles/{full.slug}", tamper)
        await page.reload()
        unlock = page.locator("form", has=page.get_by_role("heading", name="Unlock"))
        await unlock.get_by_label("Password").fill(PASSWORD)
        await unlock.get_by_role("button", name="Unlock").click()
        await expect(page.locator("[data-signature]")).to_have_attribute(
            "data-signature", "invalid"
        )
        await expect(page.locator("[data-signature]")).to_contain_text("does not match the text")
        assert editor.errors == []
    finally:
        await editor.close()


async def test_a_new_device_catching_up_skips_a_removed_articles_redacted_event(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    owner = await people.register("owner")
    handle = unique_handle("gone")
    await owner.public.create(handle, "Soon Removed", kind="media")
    first = await WebUser.sign_up(browser, web_server.base_url, "replayer")
    username = first.username
    await first.close()
    api = Api(web_server.base_url)
    try:
        reader = await api.login(username)
        subscription = f"/v1/public/accounts/{handle}/subscription"
        await api.call("PUT", subscription, reader, json={"notifications": True})
        spam = await owner.public.publish(handle, "# Cheap pills\n\nBuy now.")
        await owner.public.publish(handle, "# Honest news\n\nIt rained.")
        mod = await moderator(api, web_server)
        await api.call(
            "POST",
            "/v1/moderation/reports",
            reader,
            json={"target": {"type": "article", "id": spam.id}, "policy_item": "spam"},
        )
        await act(api, mod, (await case_of(api, mod, "article", spam.id))["id"], "remove_content")
    finally:
        await api.close()

    # A new device catches up from the start of the stream: the redacted event is skipped.
    context = await browser.new_context(viewport={"width": 1100, "height": 760})
    page = await context.new_page()
    again = WebUser(context, page, web_server.base_url, username)
    try:
        await page.goto(f"{web_server.base_url}/app/")
        form = page.locator("form", has=page.get_by_role("heading", name="Sign in on this browser"))
        await form.get_by_label("Username").fill(username)
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_role("button", name="Sign in").click()
        await again.wait_online()
        await expect(page.get_by_label("1 new articles")).to_be_visible()
        await page.get_by_role("link", name="Public").first.click()
        feed = page.locator(".articles .article-card")
        await expect(feed).to_have_count(1)
        await expect(feed.first).to_contain_text("Honest news")
        assert "Cheap pills" not in await page.content()
        assert again.errors == []
    finally:
        await again.close()
