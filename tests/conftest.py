"""Shared fixtures: a fresh database per test on SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from support.api import Api
from support.databases import (
    SKIP_POSTGRES,
    PostgresTemplates,
    SqliteTemplates,
    shared_postgres_templates,
)
from support.redis import RedisForTest, redis_for_test
from support.server import RunningServer, serve_in_process, server_config

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


def postgres_templates() -> PostgresTemplates:
    templates = shared_postgres_templates()
    if templates is None:
        pytest.skip(SKIP_POSTGRES)
    return templates


@pytest.fixture
def pg_templates() -> PostgresTemplates | None:
    """The PostgreSQL templates, or None when PostgreSQL tests are not configured."""
    return shared_postgres_templates()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    templates = shared_postgres_templates(create=False)
    if templates is not None:
        templates.close()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_templates: SqliteTemplates
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield await sqlite_templates.fresh(tmp_path)
    else:
        async with postgres_templates().fresh() as url:
            yield url


ServerFactory = Callable[..., AbstractAsyncContextManager[RunningServer]]


@pytest.fixture
def make_server(database_url: str, tmp_path: Path) -> ServerFactory:
    """Start a server on this test's database with overrides: ``make_server(stream={...})``."""

    @asynccontextmanager
    async def start(**sections: Any) -> AsyncIterator[RunningServer]:
        async with serve_in_process(server_config(database_url, tmp_path, **sections)) as server:
            yield server

    return start


@pytest.fixture
async def server(make_server: ServerFactory) -> AsyncIterator[RunningServer]:
    async with make_server() as running:
        yield running


@pytest.fixture
async def sqlite_server(
    tmp_path: Path, sqlite_templates: SqliteTemplates
) -> AsyncIterator[RunningServer]:
    """A server on SQLite only, for tests of client behaviour that no backend changes."""
    url = await sqlite_templates.fresh(tmp_path)
    async with serve_in_process(server_config(url, tmp_path / "server")) as running:
        yield running


@pytest.fixture
async def api(server: RunningServer) -> AsyncIterator[Api]:
    client = Api(server.base_url)
    yield client
    await client.close()


@pytest.fixture
async def redis_for() -> AsyncIterator[RedisForTest]:
    """A Redis URL and a key prefix of this test's own (skips without KABAR_TEST_REDIS_URL)."""
    async for value in redis_for_test():
        yield value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests marked slow first (otherwise in collection order).

    Under xdist, a 20-30 s reliability test collected last started last and ran on
    alone while the other workers idled; handed out first, the short tests fill in
    around it.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
