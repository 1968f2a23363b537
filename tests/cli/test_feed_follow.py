"""``kabar feed --follow`` in a real pseudo-terminal: an article appears the moment another
account publishes it (issue 4: "publish an article and watch it arrive live")."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pexpect

from support.api import unique_name
from support.clients import People
from support.public import unique_handle
from support.server import RunningServer


async def test_feed_follow_shows_a_new_article_as_it_is_published(
    sqlite_server: RunningServer,
    terminal,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    people = People(sqlite_server.base_url, tmp_path / "sdk-devices")
    editor = await people.register("editor")
    handle = unique_handle("night")
    await editor.public.create(handle, "Night Desk", kind="media")
    await editor.public.publish(handle, "# Already out\n\nYesterday's news.")
    reader = terminal("reader")
    registered = await reader("register", "--server", reader.server, "--username", unique_name("r"))
    assert registered.exit_code == 0, registered.output
    assert (await reader("subscribe", f"@{handle}")).exit_code == 0
    env = {**os.environ, **reader.env, "TERM": "dumb", "NO_COLOR": "1"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kabar", "feed", "--follow", "--count", "1"],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )
    try:
        await asyncio.to_thread(child.expect_exact, "Already out")
        await asyncio.to_thread(child.expect_exact, "new articles appear here")
        article = await editor.public.publish(handle, "# Lights on the breakwater\n\nTonight.")
        await asyncio.to_thread(child.expect_exact, "published Lights on the breakwater")
        await asyncio.to_thread(child.expect_exact, f"kabar read-article @{handle}/{article.slug}")
        await asyncio.to_thread(child.expect, pexpect.EOF)
    finally:
        child.close(force=True)
        await people.close()
    assert child.exitstatus == 0
