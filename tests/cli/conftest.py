from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from kabar.cli.main import app
from support.api import PASSWORD
from support.server import RunningServer


@pytest.fixture(autouse=True, scope="session")
def wide_terminal() -> Iterator[None]:
    """Tables are laid out for 200 columns in every CLI test, whatever ran before.

    Each ``CliRunner.invoke`` also passes ``COLUMNS=200``, but under xdist a worker's
    process-wide environment decided the width in some orders (seen: 80 columns, ids cut).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "200")
        yield


class Terminal:
    """Runs ``kabar …`` as one user (own config dir) in a thread, beside the test's server."""

    def __init__(self, home: Path, server: str) -> None:
        self.home = home
        self.server = server
        self.env = {
            "KABAR_HOME": str(home),
            "KABAR_PASSPHRASE": "local passphrase",
            "KABAR_PASSWORD": PASSWORD,
            "KABAR_STORE_KDF": "1,8,1",
            "KABAR_RECOVERY_KEY": "",
            "COLUMNS": "200",
        }

    async def __call__(self, *args: str, **env: str) -> Result:
        runner = CliRunner()
        return await asyncio.to_thread(runner.invoke, app, list(args), env={**self.env, **env})

    async def json(self, *args: str) -> Any:
        result = await self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def terminal(tmp_path: Path, sqlite_server: RunningServer):  # noqa: ANN201
    def make(name: str) -> Terminal:
        return Terminal(tmp_path / f"home-{name}", sqlite_server.base_url)

    return make
