"""Two people chat in two browsers: end to end both ways, live, with unread counts, history
after a reload, on a phone-sized screen; and the server never holds the plaintext."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from kabar.client.models import Message
from support.browser import PHONE, WebUser
from support.clients import People
from support.proxy import Proxy
from support.server import RunningServer

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_two_browsers_chat_end_to_end_both_ways(
    browser: Any, web_server: RunningServer
) -> None:
    alice = await WebUser.sign_up(browser, web_server.base_url, "alice")
    bob = await WebUser.sign_up(browser, web_server.base_url, "bob", viewport=PHONE)
    try:
        conversation = await alice.open_direct(bob.username)
        await alice.send("hello bob, this is alice")
        await alice.expect_message("hello bob, this is alice")

        link = bob.page.locator(f'a[data-conversation="{conversation}"]')
        await expect(link).to_contain_text(f"@{alice.username}")
        await expect(link.locator(".unread")).to_have_text("1")
        await bob.screenshot("phone-conversation-list")
        await bob.open(conversation)
        await bob.expect_message("hello bob, this is alice")
        await expect(link.locator(".unread")).to_have_count(0)

        await bob.send("hi alice — bob here 👋")
        await alice.expect_message("hi alice — bob here 👋")
        await alice.send("live both ways")
        await bob.expect_message("live both ways")
        assert await bob.bodies() == [
            "hello bob, this is alice",
            "hi alice — bob here 👋",
            "live both ways",
        ]
        await alice.screenshot("desktop-chat")
        await bob.screenshot("phone-chat")

        # History survives a reload: the device is unlocked from its encrypted local store.
        await bob.page.reload()
        form = bob.page.locator("form", has=bob.page.get_by_role("heading", name="Unlock"))
        await form.get_by_label("Password").fill("correct horse battery staple")
        await form.get_by_role("button", name="Unlock").click()
        await bob.wait_online()
        await bob.open(conversation)
        await bob.expect_message("live both ways")
        await alice.send("after the reload")
        await bob.expect_message("after the reload")
        assert alice.errors == []
        assert bob.errors == []
    finally:
        await alice.close()
        await bob.close()


async def test_the_server_database_never_holds_a_browser_chats_plaintext(
    browser: Any, web_server: RunningServer, web_dir: Path
) -> None:
    canary = f"CANARY-{uuid.uuid4().hex}"
    control = f"CONTROL-{uuid.uuid4().hex}"
    alice = await WebUser.sign_up(browser, web_server.base_url, "alice")
    bob = await WebUser.sign_up(browser, web_server.base_url, "bob")
    try:
        conversation = await alice.create_group(f"{control} group", [bob.username])
        await alice.send(f"{canary} from alice")
        await bob.open(conversation)
        await bob.expect_message(f"{canary} from alice")
        await bob.send(f"{canary} from bob")
        await alice.expect_message(f"{canary} from bob")
        attachment = web_dir / f"{canary}.txt"
        attachment.write_text(f"{canary} inside a file\n" * 100)
        await alice.page.locator("#attach").set_input_files(str(attachment))
        await bob.expect_message(f"{canary}.txt")
        # The browsers' own stores hold it only encrypted (IndexedDB, as written to disk).
        for user in (alice, bob):
            local = await user.page.evaluate(RAW_INDEXEDDB)
            assert local["records"] > 10
            assert local["shapes"] == ["data,nonce"]
            assert canary not in local["text"]
    finally:
        await alice.close()
        await bob.close()
    stored = _server_bytes(web_dir)
    assert any(name.endswith("-wal") for name in stored)
    assert [name for name, data in stored.items() if canary.encode() in data] == []
    # The same search finds what the server may see (a group title) in its database.
    assert [name for name, data in stored.items() if control.encode() in data]


async def test_the_keyboard_alone_opens_a_chat_and_sends(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    sam = await people.register("sam")
    web = await WebUser.sign_up(browser, web_server.base_url, "keys")
    page = web.page
    try:

        async def tab_to(name: str) -> None:
            for _ in range(20):
                await page.keyboard.press("Tab")
                focused = await page.evaluate("document.activeElement.textContent.trim()")
                if focused == name:
                    return
            raise AssertionError(f"Tab never reached {name!r}")

        await tab_to("New chat")
        await page.keyboard.press("Enter")
        await tab_to("")  # the username field of "Chat with someone"
        await page.keyboard.type(sam.username)
        await page.keyboard.press("Enter")
        await expect(page.get_by_label("Message", exact=True)).to_be_focused()
        await page.keyboard.type("typed without a mouse")
        await page.keyboard.press("Enter")
        await web.expect_message("typed without a mouse")
        assert (
            await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        )
    finally:
        await web.close()


async def test_a_dropped_connection_loses_no_message_either_way(
    browser: Any, web_server: RunningServer, people: People
) -> None:
    """The browser reaches the server through a proxy the test cuts, then restores."""
    port = int(web_server.base_url.rsplit(":", 1)[1])
    proxy = Proxy("127.0.0.1", port).start()
    sam = await people.register("sam")
    web = await WebUser.sign_up(browser, f"http://127.0.0.1:{proxy.port}", "web")
    try:
        conversation = await web.open_direct(sam.username)
        await web.send("before the cut")
        await web.expect_message("before the cut")
        await sam.send_text(conversation, "sam before the cut")
        await web.expect_message("sam before the cut")

        proxy.cut()
        await expect(web.page.locator(".connection")).not_to_have_text("online")
        for i in range(5):
            await sam.send_text(conversation, f"sam while cut {i}")
        await web.send("web while cut")
        await expect(web.page.locator(".message.pending")).to_have_count(1)
        await web.screenshot("offline-pending")

        proxy.restore()
        await web.wait_online()
        for i in range(5):
            await web.expect_message(f"sam while cut {i}")
        await web.expect_message("web while cut")
        await expect(web.page.locator(".message.pending")).to_have_count(0)
        expected = ["before the cut", "sam before the cut"]
        expected += [f"sam while cut {i}" for i in range(5)] + ["web while cut"]
        assert await web.bodies() == expected
        for _ in range(100):
            await sam.sync()
            got = [m.body for m in sam.history(conversation) if isinstance(m, Message)]
            if "web while cut" in got:
                break
        assert got == expected
    finally:
        await web.close()
        proxy.close()


RAW_INDEXEDDB = """async () => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open("kabar");
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  const all = (store) => new Promise((ok) => {
    const r = db.transaction(store).objectStore(store).getAll();
    r.onsuccess = () => ok(r.result);
  });
  const records = await all("records");
  let text = JSON.stringify(await all("vaults"));
  const shapes = new Set();
  for (const value of records) {
    shapes.add(Object.keys(value).sort().join(","));
    for (const byte of value.data) text += String.fromCharCode(byte);
  }
  db.close();
  return {records: records.length, shapes: [...shapes], text};
}"""


def _server_bytes(web_dir: Path) -> dict[str, bytes]:
    files = [p for p in web_dir.rglob("*") if p.is_file() and "sdk-devices" not in p.parts]
    return {str(p): p.read_bytes() for p in files if not p.name.endswith(".txt")}
