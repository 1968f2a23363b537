"""Bad input gets a typed problem document (400/404/413), never a 500."""

from __future__ import annotations

import httpx
import pytest

from support.api import Api
from support.server import RunningServer

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["detail"]


async def test_malformed_json_is_a_400(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/v1/accounts",
            content=b'{"username": "x", ',
            headers={"content-type": "application/json"},
        )
    assert_problem(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"username": 5, "password": "long enough password"},
        {"password": "long enough password"},
        {"username": "x" * 100, "password": "p" * 10},
    ],
)
async def test_schema_violations_are_a_400_naming_the_field(
    server: RunningServer, body: object
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/v1/accounts", json=body)
    assert_problem(response, 400, "invalid_request")
    assert response.json()["errors"]


async def test_oversized_bodies_are_a_413_by_header_and_by_stream(server: RunningServer) -> None:
    limit = server.services.config.limits.request_max_bytes
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        declared = await http.post("/v1/accounts", content=b"x" * (limit + 1))

        async def chunks():  # noqa: ANN202 - an async generator without a length header
            for _ in range(limit // 65536 + 2):
                yield b"x" * 65536

        streamed = await http.post("/v1/accounts", content=chunks())
    assert_problem(declared, 413, "payload_too_large")
    assert_problem(streamed, 413, "payload_too_large")


async def test_unknown_routes_and_methods_are_problems(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        missing = await http.get("/v1/nothing-here")
        wrong_method = await http.delete("/v1/accounts")
    assert_problem(missing, 404, "not_found")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith(PROBLEM)


async def test_missing_and_bad_tokens_are_401_with_a_challenge(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        missing = await http.get("/v1/account")
        bad = await http.get("/v1/account", headers={"Authorization": "Bearer kbr_nope"})
    assert_problem(missing, 401, "unauthenticated")
    assert_problem(bad, 401, "unauthenticated")
    assert missing.headers["www-authenticate"] == "Bearer"


async def test_malformed_sync_tokens_are_a_400(api: Api) -> None:
    user = await api.register()
    async with httpx.AsyncClient(base_url=api.base_url) as http:
        response = await http.get("/v1/sync", params={"since": "garbage"}, headers=user.headers)
        future = await http.get("/v1/sync", params={"since": "s999999999"}, headers=user.headers)
    assert_problem(response, 400, "invalid_sync_token")
    assert_problem(future, 400, "invalid_sync_token")


async def test_health_and_metrics_are_served(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        health = await http.get("/healthz")
        metrics = await http.get("/metrics")
        openapi = await http.get("/v1/openapi.json")
    assert health.json()["status"] == "ok"
    assert "kabar_http_requests_total" in metrics.text
    assert "/v1/conversations/{conversation_id}/messages/{txn_id}" in openapi.json()["paths"]
