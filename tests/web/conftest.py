"""One server and one Chromium per test module (the browser is the slow part to start).

Every test here skips, with the reason, when Chromium, Playwright or the built app is
missing, so ``make test`` on a machine without them still passes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from support.browser import launch_chromium, missing_requirement
from support.clients import People
from support.databases import SqliteTemplates
from support.server import RunningServer, serve_in_process, server_config

MODULE = {"scope": "module", "loop_scope": "module"}


@pytest.fixture(scope="module")
def web_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web")


@pytest_asyncio.fixture(**MODULE)
async def web_server(
    web_dir: Path, sqlite_templates: SqliteTemplates
) -> AsyncIterator[RunningServer]:
    reason = missing_requirement()
    if reason:
        pytest.skip(reason)
    url = await sqlite_templates.fresh(web_dir)
    async with serve_in_process(server_config(url, web_dir)) as server:
        yield server


@pytest_asyncio.fixture(**MODULE)
async def browser(web_server: RunningServer) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(**MODULE)
async def people(web_server: RunningServer, web_dir: Path) -> AsyncIterator[People]:
    """Python SDK users against the same server."""
    found = People(web_server.base_url, web_dir / "sdk-devices")
    yield found
    await found.close()
