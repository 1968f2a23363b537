"""Schemathesis, generated from our OpenAPI document: no 5xx, no response outside the schema.

``make test`` runs 15 examples for each operation (about 1,500 in all); ``make fuzz`` runs
300 for each (``KABAR_FUZZ_EXAMPLES``, which sets the number per operation).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kabar.app import create_app
from kabar.config import load_config
from support.server import serve_in_process, server_config

EXAMPLES = int(os.environ.get("KABAR_FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]

schema = schemathesis.openapi.from_dict(create_app(load_config(env={})).openapi())


class ThreadServer:
    """An in-process server on its own event loop thread, for synchronous schemathesis tests."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.config = server_config(database_url, data_dir)
        self.base_url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        # One client for every case: a new httpx client builds an SSL context (~15 ms),
        # which made up most of this test's time when each case opened its own.
        self.http = httpx.Client()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve_in_process(self.config) as server:
            self.base_url = server.base_url
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ThreadServer:
        self._thread.start()
        assert self._ready.wait(30), "fuzz server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self.http.close()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    directory = tmp_path_factory.mktemp("fuzz")
    template = directory / "template.db"

    async def migrate_template() -> None:
        from kabar.config import DatabaseConfig
        from kabar.store import migrate
        from kabar.store.database import Database

        database = Database(DatabaseConfig(url=f"sqlite:///{template}"))
        await migrate.upgrade(database)
        await database.dispose()

    asyncio.run(migrate_template())
    with ThreadServer(f"sqlite:///{template}", directory) as server:
        yield server


def fresh_user(server: ThreadServer) -> dict[str, Any]:
    name = f"fz{uuid.uuid4().hex[:12]}"
    response = server.http.post(
        server.base_url + "/v1/accounts", json={"username": name, "password": "fuzzing password"}
    )
    response.raise_for_status()
    return {**response.json(), "password": "fuzzing password"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_never_fails_and_always_matches_its_schema(
    case: Any, fuzz_server: ThreadServer
) -> None:
    if case.operation.path == "/v1/sync" and isinstance(case.query, dict):
        # Long-polls are exercised elsewhere; here a generated timeout would only idle.
        timeout = str(case.query.get("timeout", ""))
        if timeout.isdigit():
            case.query["timeout"] = min(int(timeout), 50)
    user = fresh_user(fuzz_server)
    headers = {"Authorization": f"Bearer {user['access_token']}"}
    case.call_and_validate(base_url=fuzz_server.base_url, headers=headers, checks=CHECKS)
