from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.clients import People
from support.server import RunningServer


@pytest.fixture
async def people(sqlite_server: RunningServer, tmp_path: Path) -> AsyncIterator[People]:
    """SDK users on a SQLite server: client behaviour does not depend on the backend."""
    crowd = People(sqlite_server.base_url, tmp_path / "devices")
    yield crowd
    await crowd.close()


@pytest.fixture
async def people_on_each_backend(server: RunningServer, tmp_path: Path) -> AsyncIterator[People]:
    """SDK users on SQLite and on PostgreSQL, for the end-to-end round trips."""
    crowd = People(server.base_url, tmp_path / "devices")
    yield crowd
    await crowd.close()
