"""Running kabar for a test: in-process (uvicorn in the test's loop) or as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from kabar.app import create_app
from kabar.cli.server import UVICORN_OPTIONS
from kabar.config import Config, load_config
from kabar.services import Services

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}


def server_config(database_url: str, data_dir: Path, **sections: Mapping[str, Any]) -> Config:
    overrides: dict[str, Any] = {
        "database": {"url": database_url, "sqlite_synchronous": "NORMAL"},
        "security": CHEAP_ARGON2,
        "rate_limits": {"enabled": False},
        "media": {"directory": str(data_dir / "media")},
        "transparency": {"key_file": str(data_dir / "transparency-log.key")},
    }
    for section, values in sections.items():
        overrides[section] = {**overrides.get(section, {}), **values}
    return load_config(env={}, overrides=overrides)


class RunningServer:
    def __init__(self, base_url: str, services: Services | None, app: Any = None) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://")
        self._services = services
        self.app = app  # the ASGI application, when in-process

    @property
    def services(self) -> Services:
        assert self._services is not None, "a subprocess server has no in-process services"
        return self._services


@asynccontextmanager
async def serve_in_process(
    config: Config,
    http_protocol: type[asyncio.Protocol] | None = None,
    **uvicorn_options: Any,
) -> AsyncIterator[RunningServer]:
    """kabar served by uvicorn in this loop, as ``kabar serve`` serves it (``http_protocol``
    replaces kabar's HTTP protocol class, and ``uvicorn_options`` set uvicorn's, for tests
    of the protocol itself)."""
    app = create_app(config)
    options = {**UVICORN_OPTIONS, **uvicorn_options}
    if http_protocol is not None:
        options["http"] = http_protocol
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            **options,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server exited during startup")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", app.state.services, app)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``kabar serve`` in a subprocess, configured through KABAR_* variables."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "KABAR_SERVER_PORT": str(self.port)}
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    async def start(self) -> None:
        self._close_log()
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
            [sys.executable, "-m", "kabar", "serve", "--migrate"],
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.base_url + "/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise RuntimeError("server did not become healthy")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self._close_log()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()
