"""A browser and the Python SDK (kabar.client, vodozemac) chat both ways.

libolm in the browser and vodozemac in Python must agree on every wire format — Olm
pre-key and normal messages, room keys, Megolm envelopes, canonical JSON, franking
commitments, attachment descriptors, safety numbers — or these tests fail.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from playwright.async_api import expect

from kabar.client import Session
from kabar.client.errors import SignedOut
from kabar.client.models import Message, UnableToDecrypt
from support.browser import WebUser
from support.clients import People
from support.server import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def received(session: Session, conversation_id: str, count: int) -> list[Message]:
    """Sync until the SDK holds ``count`` decrypted messages in the conversation."""
    for _ in range(200):
        await session.sync()
        found = [m for m in session.history(conversation_id) if isinstance(m, Message)]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    history = session.history(conversation_id)
    raise AssertionError(f"SDK has {history!r}")


async def test_browser_and_sdk_chat_both_ways(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    sam = await people.register("sam")
    web = await WebUser.sign_up(browser, web_server.base_url, "web")
    try:
        conversation = await web.open_direct(sam.username)
        await web.send("hello from the browser ✓")
        messages = await received(sam, conversation, 1)
        assert messages[0].body == "hello from the browser ✓"
        assert messages[0].sender == web.username

        await sam.send_text(conversation, "hello from Python — ü")
        await web.expect_message("hello from Python — ü")
        await web.send("second from the browser")
        await web.expect_message("second from the browser")  # acknowledged: it has its place
        await sam.send_text(conversation, "second from Python")
        await web.expect_message("second from Python")
        messages = await received(sam, conversation, 4)
        assert [m.body for m in messages] == [
            "hello from the browser ✓",
            "hello from Python — ü",
            "second from the browser",
            "second from Python",
        ]
        assert sam.undecrypted() == []
        await web.screenshot("browser-and-sdk")
        assert web.errors == []
    finally:
        await web.close()


async def test_safety_numbers_are_the_same_in_the_browser_and_the_sdk(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    sam = await people.register("sam")
    web = await WebUser.sign_up(browser, web_server.base_url, "web")
    try:
        conversation = await web.open_direct(sam.username)
        shown = await web.safety_number(conversation, sam.username)
        expected = await sam.safety_number(web.username)
        assert shown == expected.number
        assert len(shown.replace(" ", "")) == 60
        await web.screenshot("safety-number")
    finally:
        await web.close()


async def test_attachments_and_franked_reports_work_across_clients(
    browser: Any, web_server: RunningServer, people: People, tmp_path: Any
) -> None:
    sam = await people.register("sam")
    web = await WebUser.sign_up(browser, web_server.base_url, "web")
    try:
        conversation = await web.open_direct(sam.username)
        upload = tmp_path / "notes.txt"
        upload.write_bytes(b"attachment from the browser\n" * 50)
        await web.page.locator("#attach").set_input_files(str(upload))
        [message] = await received(sam, conversation, 1)
        assert await sam.download(message.attachments[0]) == upload.read_bytes()

        await sam.send_file(conversation, PNG, "dot.png", "image/png", "a picture")
        await web.expect_message("a picture")
        item = web.message("a picture")
        await item.get_by_role("button", name="Show dot.png").click()
        await expect(item.get_by_role("img", name="dot.png")).to_be_visible()

        # A franked report from the browser: the server verifies it against the commitment.
        await item.locator("summary", has_text="Report").click()
        await item.get_by_label("Reason for the report").fill("testing reports")
        await item.get_by_role("button", name="Send report").click()
        await expect(item.get_by_role("status")).to_have_text(
            "Reported. Only this message was revealed."
        )
    finally:
        await web.close()


async def test_removed_member_cannot_read_what_the_browser_sends_next(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    sam, kim = await people.register("sam"), await people.register("kim")
    web = await WebUser.sign_up(browser, web_server.base_url, "web")
    try:
        conversation = await web.create_group("rotation", [sam.username, kim.username])
        await web.send("everyone reads this")
        assert [m.body for m in await received(kim, conversation, 1)] == ["everyone reads this"]
        await web.page.get_by_role("link", name="Info").click()
        await web.page.get_by_role("button", name=f"Remove @{kim.username}").click()
        await expect(web.page.locator(f'li[data-member="{kim.username}"]')).to_have_count(0)
        await web.open(conversation)
        await web.send("only sam reads this")
        bodies = [m.body for m in await received(sam, conversation, 2)]
        assert bodies == ["everyone reads this", "only sam reads this"]
        await kim.sync()
        assert [m.body for m in kim.history(conversation) if isinstance(m, Message)] == [
            "everyone reads this"
        ]
        # A new member added later gets the current key before the browser's next message.
        lee = await people.register("lee")
        await web.page.get_by_role("link", name="Info").click()
        await web.page.get_by_label("Add members").fill(lee.username)
        await web.page.get_by_role("button", name="Add", exact=True).click()
        await expect(web.page.locator(f'li[data-member="{lee.username}"]')).to_have_count(1)
        await web.open(conversation)
        await web.send("welcome lee")
        assert [m.body for m in await received(lee, conversation, 1)] == ["welcome lee"]
        assert not any(isinstance(m, UnableToDecrypt) for m in lee.history(conversation)[-1:])
    finally:
        await web.close()


async def test_devices_revoke_each_other_and_a_revoked_browser_forgets_its_keys(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    web = await WebUser.sign_up(browser, web_server.base_url, "web")
    try:
        first, second = await people.login(web.username), await people.login(web.username)
        await web.page.get_by_role("link", name="Devices").click()
        row = web.page.locator(f'li[data-device="{first.device_id}"]')
        await expect(web.page.locator("li[data-device]")).to_have_count(3)
        await web.screenshot("devices")
        await row.get_by_role("button", name="Revoke").click()
        await expect(row).to_have_count(0)
        with pytest.raises(SignedOut):
            await first.sync()

        browser_device = next(d for d in await second.devices() if not d.current)
        await second.revoke_device(browser_device.device_id)
        await expect(web.page.get_by_role("alert")).to_contain_text("This device was signed out")
        await expect(web.page.get_by_role("heading", name="Unlock this device")).to_have_count(0)
    finally:
        await web.close()
