"""Serving kabar for a benchmark: a free port, and waiting until the server answers."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import aiohttp


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` (so a server started there binds it)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until_healthy(
    base: str, *, seconds: float, exited: Callable[[], bool] = lambda: False
) -> None:
    """Return once ``base``/healthz answers 200; raise if ``exited()`` or after ``seconds``."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if exited():
                raise RuntimeError("the server exited while starting; see its server.log")
            try:
                async with session.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the server did not answer within {seconds:.0f} s; see its server.log")
