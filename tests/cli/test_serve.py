"""``kabar serve``: the served process, as a client on the network sees it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from support.server import CHEAP_ARGON2, ServerProcess


async def _register(client: httpx.AsyncClient, username: str, forwarded_for: str) -> int:
    response = await client.post(
        "/v1/accounts",
        json={"username": username, "password": "correct horse battery staple"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


@pytest.mark.parametrize(
    ("trusted", "second_status", "secure"),
    [
        # 127.0.0.1 is not a trusted proxy here: both registrations come from 127.0.0.1
        # whatever X-Forwarded-For says, and the second exceeds the limit of one; nor is
        # its X-Forwarded-Proto believed.
        ("10.9.9.9", 429, False),
        # It is trusted: each comes from the address it forwards, each within its limit,
        # and over the https it says.
        ("127.0.0.1", 201, True),
    ],
)
async def test_only_kabars_trusted_proxies_decide_the_client_address_and_scheme(
    tmp_path: Path, trusted: str, second_status: int, secure: bool
) -> None:
    env = {
        "KABAR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kabar.db'}",
        "KABAR_MEDIA_DIRECTORY": str(tmp_path / "media"),
        "KABAR_SERVER_TRUSTED_PROXIES": trusted,
        "KABAR_RATE_LIMITS_REGISTER_PER_ADDRESS": "1/3600s",
        **{f"KABAR_SECURITY_{k.upper()}": str(v) for k, v in CHEAP_ARGON2.items()},
    }
    server = ServerProcess(env, tmp_path / "server.log")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            assert await _register(client, "first", "203.0.113.1") == 201
            assert await _register(client, "second", "203.0.113.2") == second_status
            login = await client.get("/console/login", headers={"X-Forwarded-Proto": "https"})
            cookie = login.headers["set-cookie"].lower()
            assert ("; secure" in cookie) is secure
    finally:
        server.stop()


async def test_the_server_does_not_name_its_software(tmp_path: Path) -> None:
    env = {
        "KABAR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kabar.db'}",
        "KABAR_MEDIA_DIRECTORY": str(tmp_path / "media"),
    }
    server = ServerProcess(env, tmp_path / "server.log")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            response = await client.get("/healthz")
        assert response.status_code == 200
        assert "server" not in response.headers
        assert "date" in response.headers
    finally:
        server.stop()
