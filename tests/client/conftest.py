from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.clients import People
from support.server import RunningServer


@pytest.fixture
async def people(server: RunningServer, tmp_path: Path) -> AsyncIterator[People]:
    crowd = People(server.base_url, tmp_path / "devices")
    yield crowd
    await crowd.close()
