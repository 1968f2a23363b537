"""``kabar chat`` in a real pseudo-terminal: a message from another account appears live."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pexpect

from kabar.client.models import Message
from support.api import unique_name
from support.clients import People
from support.server import RunningServer


async def test_kabar_chat_shows_messages_live_and_sends_what_you_type(
    sqlite_server: RunningServer,
    terminal,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    people = People(sqlite_server.base_url, tmp_path / "sdk-devices")
    alice = await people.register("alice")
    bob = terminal("bob")
    bob_name = unique_name("bob")
    registered = await bob("register", "--server", bob.server, "--username", bob_name)
    assert registered.exit_code == 0, registered.output
    chat = await alice.open_direct(bob_name)
    await alice.send_text(chat.conversation_id, "sent before bob opened the chat")
    env = {
        **os.environ,
        **bob.env,
        "TERM": "dumb",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "NO_COLOR": "1",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kabar", "chat", f"@{alice.username}"],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )
    try:
        await asyncio.to_thread(child.expect, "sent before bob opened the chat")
        # The prompt's end only: prompt_toolkit may redraw it with escape codes in between
        # when output arrives while it renders. On this dumb terminal the prompt is written
        # once, straight to the terminal, while the history goes through patch_stdout's
        # writer thread: under load the prompt can come out first, before the history line.
        if "> " not in child.before:
            await asyncio.to_thread(child.expect_exact, "> ")
        await alice.send_text(chat.conversation_id, "this arrives while bob is typing")
        await asyncio.to_thread(child.expect, "this arrives while bob is typing")
        child.sendline("hello alice, live from my terminal")
        await asyncio.to_thread(child.expect, "you: hello alice, live from my terminal")
        received = [u for u in await alice.sync() if isinstance(u, Message)]
        assert [m.body for m in received] == ["hello alice, live from my terminal"]
        child.sendline("/quit")
        await asyncio.to_thread(child.expect, pexpect.EOF)
    finally:
        child.close(force=True)
        await people.close()
    assert child.exitstatus == 0
