"""Running a public account in the browser: creating one (the server's refusals shown next to
the fields they concern), editing its profile and avatar, adding an editor who then publishes
for it from a second browser, the last owner kept, and removing the editor — every outcome
checked through the API as well as on the page."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import expect

from support.api import Api, ApiError, unique_name
from support.browser import PHONE, WebUser
from support.clients import People
from support.public import create_account, unique_handle
from support.server import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 20)).save(out, format="PNG")
    return out.getvalue()


async def test_an_owner_creates_an_account_adds_an_editor_who_publishes_and_removes_them(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    taken = unique_handle("taken")
    await (await people.register("other")).public.create(taken, "Already Here", kind="media")
    handle = unique_handle("harbour")
    owner = await WebUser.sign_up(browser, web_server.base_url, "founder")
    editor = await WebUser.sign_up(browser, web_server.base_url, "writer", viewport=PHONE)
    api = Api(web_server.base_url)
    page = owner.page
    try:
        as_owner = await api.login(owner.username)
        as_editor = await api.login(editor.username)

        # No public account yet: Write says so and offers to create one.
        await page.get_by_role("link", name="Public", exact=True).click()
        await page.get_by_role("link", name="Write", exact=True).click()
        await expect(
            page.get_by_text("You do not write for any public account yet")
        ).to_be_visible()
        await page.get_by_role("link", name="New public account").click()
        form = page.locator("form", has=page.get_by_role("heading", name="A new public account"))
        handle_field = form.get_by_label("Handle")
        await expect(handle_field).to_be_focused()

        # The server refuses, field by field, and says why next to the field.
        await handle_field.fill("No good!")
        await form.get_by_role("button", name="Create public account").click()
        name_error = form.locator("#new-account-name-error")
        await expect(name_error).to_contain_text("at least 1 character")  # request validation
        await expect(form.get_by_label("Display name")).to_have_attribute("aria-invalid", "true")
        await form.get_by_label("Display name").fill("The Harbour Herald")
        await form.get_by_label("Kind").select_option("media")
        await form.get_by_label("Bio (optional)").fill("News from the quay.")
        await form.get_by_role("button", name="Create public account").click()
        handle_error = form.locator("#new-account-handle-error")
        await expect(handle_error).to_have_text("a handle is 3–30 of a-z, 0-9 and _")
        await expect(name_error).to_be_empty()
        await expect(handle_field).to_have_attribute("aria-invalid", "true")
        await expect(handle_field).to_be_focused()
        assert await handle_field.get_attribute("aria-describedby") == (
            "new-account-handle-hint new-account-handle-error"
        )
        await owner.screenshot("desktop-create-account-error")
        assert (await api.call("GET", "/v1/public/memberships", as_owner))["accounts"] == []

        await handle_field.fill(taken)
        await form.get_by_role("button", name="Create public account").click()
        await expect(handle_error).to_have_text("that handle is taken")

        # A good handle (folded to lower case): you land on its page, as its owner.
        await handle_field.fill(handle.upper())
        await form.get_by_role("button", name="Create public account").click()
        await page.wait_for_url(re.compile(f".*#/p/manage/@{handle}\\?created$"))
        await expect(
            page.get_by_text(f"@{handle} is created, and you are its owner.")
        ).to_be_visible()
        [mine] = (await api.call("GET", "/v1/public/memberships", as_owner))["accounts"]
        assert (mine["handle"], mine["name"], mine["kind"], mine["bio"], mine["my_role"]) == (
            handle,
            "The Harbour Herald",
            "media",
            "News from the quay.",
            "owner",
        )

        # The profile: a bad edit is refused next to its field, a good one saved.
        profile = page.get_by_role("form", name="Profile")
        await profile.get_by_label("Display name").fill("")
        await profile.get_by_role("button", name="Save profile").click()
        await expect(profile.locator("#profile-name-error")).to_contain_text("name must be 1 to")
        await profile.get_by_label("Display name").fill("Harbour Herald")
        await profile.get_by_label("Kind").select_option("organisation")
        await profile.get_by_label("Bio").fill("Independent news from the quay.")
        await profile.get_by_role("button", name="Save profile").click()
        await expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
        account = await api.call("GET", f"/v1/public/accounts/{handle}")
        assert (account["name"], account["kind"], account["bio"]) == (
            "Harbour Herald",
            "organisation",
            "Independent news from the quay.",
        )

        # The avatar: uploaded as the request body, shown, removed.
        await page.get_by_label("Upload avatar").set_input_files(
            files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png(400, 300)}]
        )
        await expect(page.get_by_text("Avatar updated.")).to_be_visible()
        avatar = page.get_by_role("img", name=f"Avatar of @{handle}")
        await expect(avatar).to_have_js_property("complete", True)
        assert await avatar.evaluate("img => img.naturalWidth") > 0
        account = await api.call("GET", f"/v1/public/accounts/{handle}")
        assert account["avatar_url"].startswith("/media/")
        assert await avatar.get_attribute("src") == account["avatar_url"]
        await page.get_by_label("Change avatar").set_input_files(
            files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image"}]
        )
        await expect(page.get_by_text(re.compile("^The avatar was not changed: "))).to_be_visible()
        await page.get_by_role("button", name="Remove avatar").click()
        await expect(page.get_by_text("Avatar removed.")).to_be_visible()
        await expect(avatar).to_have_count(0)
        assert (await api.call("GET", f"/v1/public/accounts/{handle}"))["avatar_url"] is None

        # Members: an unknown username is refused next to the field; a real one is added.
        add = page.locator("form", has=page.get_by_role("heading", name="Add a member"))
        nobody = unique_name("nobody")
        await add.get_by_label("Username").fill(nobody)
        await add.get_by_role("button", name="Add member").click()
        await expect(add.locator("#add-member-username-error")).to_have_text(
            f"There is no account @{nobody} on this server."
        )
        await add.get_by_label("Username").fill(f"@{editor.username}")
        await add.get_by_label("Role").select_option("editor")
        await add.get_by_role("button", name="Add member").click()
        row = page.locator(f'li[data-member="{editor.username}"]')
        await expect(row.get_by_label(f"Role of @{editor.username}")).to_have_value("editor")
        await expect(page.locator(".manage [role=status]")).to_have_text(
            f"@{editor.username} is an editor of @{handle}."
        )
        await expect(add.get_by_label("Username")).to_have_value("")
        members = (await api.call("GET", f"/v1/public/accounts/{handle}/members", as_owner))[
            "members"
        ]
        assert sorted((m["username"], m["role"]) for m in members) == sorted(
            [(owner.username, "owner"), (editor.username, "editor")]
        )
        await owner.screenshot("desktop-manage-account")

        # The only owner cannot step down: the server says so, and the role stays.
        me = page.locator(f'li[data-member="{owner.username}"]')
        await me.get_by_label(f"Role of @{owner.username}").select_option("editor")
        await expect(me.get_by_role("alert")).to_contain_text("is the only owner")
        await expect(me.get_by_label(f"Role of @{owner.username}")).to_have_value("owner")
        members = (await api.call("GET", f"/v1/public/accounts/{handle}/members", as_owner))[
            "members"
        ]
        assert (owner.username, "owner") in [(m["username"], m["role"]) for m in members]

        # The editor, in a second browser (a phone): the account is listed, its page read only…
        other = editor.page
        await other.get_by_role("link", name="Public", exact=True).click()
        await other.get_by_role("link", name="Write", exact=True).click()
        listed = other.locator(f'li[data-handle="{handle}"]')
        await expect(listed).to_contain_text("editor")
        await listed.get_by_role("link", name="Members").click()
        await expect(other.locator(f'li[data-member="{owner.username}"] .role')).to_have_text(
            "owner"
        )
        await expect(
            other.get_by_text("You are an editor here: only owners can change")
        ).to_be_visible()
        for control in ("Save profile", "Add member", f"Remove @{owner.username}"):
            await expect(other.get_by_role("button", name=control)).to_have_count(0)
        await expect(other.get_by_role("button", name="Leave")).to_be_visible()
        await editor.screenshot("phone-manage-as-editor")

        # …and it publishes for the account, signed by its device.
        await other.get_by_role("link", name="New article").click()
        await other.get_by_label("Markdown").fill("# Ferry times change\n\nFrom Monday.")
        await other.get_by_role("button", name="Publish", exact=True).click()
        await expect(other.get_by_text("Published, signed by this device.")).to_be_visible()
        published = (await api.call("GET", f"/v1/public/accounts/{handle}/articles"))["articles"]
        assert [(a["title"], a["byline"]["username"]) for a in published] == [
            ("Ferry times change", editor.username)
        ]
        article = await api.call(
            "GET", f"/v1/public/accounts/{handle}/articles/{published[0]['slug']}"
        )
        assert article["signature"]["account"] == editor.username

        # The owner removes the editor, who can no longer write for the account.
        await row.get_by_role("button", name=f"Remove @{editor.username}").click()
        await expect(page.get_by_text(f"@{editor.username} is no longer a member.")).to_be_visible()
        await expect(row).to_have_count(0)
        members = (await api.call("GET", f"/v1/public/accounts/{handle}/members", as_owner))[
            "members"
        ]
        assert [m["username"] for m in members] == [owner.username]
        with pytest.raises(ApiError) as refused:
            await api.call(
                "POST",
                f"/v1/public/accounts/{handle}/articles",
                as_editor,
                json={"markdown": "# Still here?"},
            )
        assert refused.value.code == "not_an_editor"
        assert owner.errors == []
        assert editor.errors == []
    finally:
        await api.close()
        await owner.close()
        await editor.close()


async def test_an_owner_hands_over_to_a_second_owner_steps_down_and_leaves(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    partner = await people.register("partner")
    owner = await WebUser.sign_up(browser, web_server.base_url, "handover", viewport=PHONE)
    api = Api(web_server.base_url)
    page = owner.page
    page.on("dialog", lambda dialog: dialog.accept())  # "Leave @…?"
    handle = unique_handle("kiosk")
    try:
        as_owner = await api.login(owner.username)
        await create_account(api, as_owner, handle, name="The Kiosk")
        roles = f"/v1/public/accounts/{handle}/members"

        await page.get_by_role("link", name="Public", exact=True).click()
        await page.get_by_role("link", name="Write", exact=True).click()
        row = page.locator(f'li[data-handle="{handle}"]')
        await expect(row).to_contain_text("owner")
        await row.get_by_role("link", name="Manage").click()
        me = page.locator(f'li[data-member="{owner.username}"]')

        # Alone, the owner cannot leave (the confirmation is accepted; the server refuses).
        await me.get_by_role("button", name="Leave").click()
        await expect(me.get_by_role("alert")).to_contain_text("is the only owner")
        assert [m["role"] for m in (await api.call("GET", roles, as_owner))["members"]] == ["owner"]

        # A second owner, then stepping down: the page turns read only.
        add = page.locator("form", has=page.get_by_role("heading", name="Add a member"))
        await add.get_by_label("Username").fill(partner.username)
        await add.get_by_label("Role").select_option("owner")
        await add.get_by_role("button", name="Add member").click()
        await expect(page.locator(".manage [role=status]")).to_have_text(
            f"@{partner.username} is an owner of @{handle}."
        )
        await me.get_by_label(f"Role of @{owner.username}").select_option("editor")
        await expect(page.locator(".manage [role=status]")).to_have_text(
            f"@{owner.username} is now an editor."
        )
        await expect(page.get_by_text("You are an editor here")).to_be_visible()
        await expect(page.get_by_role("button", name="Save profile")).to_have_count(0)
        await expect(me.locator(".role")).to_have_text("editor")
        await owner.screenshot("phone-manage-stepped-down")
        members = (await api.call("GET", roles, as_owner))["members"]
        assert sorted((m["username"], m["role"]) for m in members) == sorted(
            [(owner.username, "editor"), (partner.username, "owner")]
        )

        # Leaving: back to Write, which no longer lists the account.
        await me.get_by_role("button", name="Leave").click()
        await page.wait_for_url(re.compile(r".*#/p/write$"))
        await expect(
            page.get_by_text("You do not write for any public account yet")
        ).to_be_visible()
        assert [m.username for m in await partner.public.members(handle)] == [partner.username]
        assert (await api.call("GET", "/v1/public/memberships", as_owner))["accounts"] == []
        assert owner.errors == []
    finally:
        await api.close()
        await owner.close()
