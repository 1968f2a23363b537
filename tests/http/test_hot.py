"""The hot routes (send, sync) answer exactly as the FastAPI routes do, and take the load off them.

Every case below runs against a server with ``server.hot_routes`` on and one with it off;
the two must give the same answers: status, problem code, validation errors, headers and
the shape of the body. With the layer on, well-formed sends and syncs never reach FastAPI
and anything else does.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from conftest import ServerFactory
from kabar.app import KabarApp
from kabar.http.protocol import HeadHoldingHttpToolsProtocol
from support.api import Api, User
from support.server import RunningServer, serve_in_process, server_config

Outcome = dict[str, Any]
COMPARED_HEADERS = (
    "content-type",
    "x-content-type-options",
    "referrer-policy",
    "www-authenticate",
    "retry-after",
)


def envelope(text: str = "opaque", **extra: Any) -> dict[str, Any]:
    return {
        "algorithm": "test.plain",
        "ciphertext": base64.b64encode(text.encode()).decode(),
        **extra,
    }


def outcome(response: httpx.Response) -> Outcome:
    """What must not differ between the two paths (ids, times and positions may)."""
    body: Any = response.json() if response.content else None
    result: Outcome = {
        "status": response.status_code,
        "headers": {h: response.headers.get(h) for h in COMPARED_HEADERS},
    }
    if isinstance(body, dict) and "code" in body:
        result["problem"] = {k: body.get(k) for k in ("code", "status", "title", "errors")}
    elif isinstance(body, dict):
        result["body"] = {k: type(v).__name__ for k, v in sorted(body.items())}
        for stable in ("seq", "duplicate", "more", "one_time_key_count", "fallback_key_unused"):
            if stable in body:
                result[stable] = body[stable]
        result["event_types"] = [e["type"] for e in body.get("events", ())]
    return result


class Scenario:
    """Fresh accounts and a group on one server, and the requests the cases make."""

    def __init__(self, server: RunningServer, api: Api) -> None:
        self.server = server
        self.api = api
        self.http = api.http

    async def setup(self) -> None:
        self.alice: User = await self.api.register()
        self.bob: User = await self.api.register()
        self.outsider: User = await self.api.register()
        self.group = await self.api.group(self.alice, self.bob)
        await self.api.sync_all(self.alice)

    async def put(
        self,
        path_tail: str,
        body: bytes | None = None,
        user: User | None = None,
        headers: dict[str, str] | None = None,
        conversation: str | None = None,
    ) -> httpx.Response:
        who = self.alice if user is None else user
        all_headers = httpx.Headers({**who.headers, "content-type": "application/json"})
        all_headers.update(headers or {})
        path = f"/v1/conversations/{conversation or self.group}/messages/{path_tail}"
        return await self.http.put(path, content=body, headers=all_headers)

    async def get_sync(
        self, query: str, user: User | None = None, **headers: str
    ) -> httpx.Response:
        who = self.alice if user is None else user
        all_headers = httpx.Headers(who.headers)
        all_headers.update(headers)
        return await self.http.get(f"/v1/sync?{query}", headers=all_headers)


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


Case = Callable[[Scenario], Awaitable[httpx.Response]]

SEND_CASES: dict[str, Case] = {
    "sent": lambda s: s.put("txn-1", dumps(envelope())),
    "duplicate": lambda s: s.put("txn-1", dumps(envelope("something else"))),
    "with session fields": lambda s: s.put(
        "txn-2", dumps(envelope(session_id="s" * 40, sender_key="k" * 43))
    ),
    "content type with charset": lambda s: s.put(
        "txn-3", dumps(envelope()), headers={"content-type": "application/json; charset=utf-8"}
    ),
    "not a member": lambda s: s.put("txn-4", dumps(envelope()), user=s.outsider),
    "no such conversation": lambda s: s.put("txn-5", dumps(envelope()), conversation="c_nope"),
    "conversation id too long": lambda s: s.put("t", dumps(envelope()), conversation="c" * 41),
    "txn id with bad characters": lambda s: s.put("bad!txn", dumps(envelope())),
    "txn id too long": lambda s: s.put("t" * 65, dumps(envelope())),
    "field missing": lambda s: s.put("txn-6", dumps({"algorithm": "test.plain"})),
    "field of the wrong type": lambda s: s.put("txn-7", dumps(envelope(session_id=5))),
    "malformed json": lambda s: s.put("txn-8", b'{"algorithm": '),
    "empty body": lambda s: s.put("txn-9", b""),
    "a list": lambda s: s.put("txn-10", b"[]"),
    "text content type": lambda s: s.put(
        "txn-11", dumps(envelope()), headers={"content-type": "text/plain"}
    ),
    "no token": lambda s: s.put("txn-12", dumps(envelope()), headers={"authorization": ""}),
    "unknown token": lambda s: s.put(
        "txn-13", dumps(envelope()), headers={"authorization": "Bearer nope"}
    ),
    "no token and a bad body": lambda s: s.put("txn-14", b"{", headers={"authorization": ""}),
    "envelope over the message limit": lambda s: s.put("txn-15", dumps(envelope("x" * 70_000))),
    "body over the request limit": lambda s: s.put(
        "txn-16", b"x" * (s.server.services.config.limits.request_max_bytes + 1)
    ),
    "bad franking commitment": lambda s: s.put(
        "txn-17", dumps(envelope(franking_commitment="not base64!"))
    ),
}

SYNC_CASES: dict[str, Case] = {
    "from the start": lambda s: s.get_sync("timeout=0"),
    "with a limit": lambda s: s.get_sync("timeout=0&limit=1"),
    "at the end": lambda s: s.get_sync(f"since={s.alice.since}&timeout=0"),
    "empty since": lambda s: s.get_sync("since=&timeout=0"),
    "malformed since": lambda s: s.get_sync("since=x1&timeout=0"),
    "since too long": lambda s: s.get_sync("since=" + "s" * 25),
    "timeout not a number": lambda s: s.get_sync("timeout=soon"),
    "timeout too large": lambda s: s.get_sync("timeout=300001"),
    "negative timeout": lambda s: s.get_sync("timeout=-1"),
    "limit zero": lambda s: s.get_sync("timeout=0&limit=0"),
    "limit too large": lambda s: s.get_sync("timeout=0&limit=1001"),
    "repeated parameter": lambda s: s.get_sync("timeout=0&timeout=0&limit=2"),
    "unknown parameter": lambda s: s.get_sync("timeout=0&colour=blue"),
    "no token": lambda s: s.get_sync("timeout=0", authorization=""),
    "unknown token": lambda s: s.get_sync("timeout=0", authorization="Bearer nope"),
    "another method": lambda s: s.http.post("/v1/sync", headers=s.alice.headers),
    "trailing slash": lambda s: s.http.get("/v1/sync/?timeout=0", headers=s.alice.headers),
}

# Answered by the hot layer itself (the rest must reach FastAPI).
HOT_SEND = {
    "sent",
    "duplicate",
    "with session fields",
    "content type with charset",
    "not a member",
    "no such conversation",
    "no token",
    "unknown token",
    "envelope over the message limit",
    "bad franking commitment",
}
HOT_SYNC = {
    "from the start",
    "with a limit",
    "at the end",
    "empty since",
    "malformed since",
    "no token",
    "unknown token",
}


class CountingApp:
    """Wraps what lies beneath the hot layer, counting the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


def count_fastapi_requests(server: RunningServer) -> CountingApp | None:
    """Put a counter under the hot layer (None when the layer is off)."""
    layer = server.app.hot
    if layer is None:
        return None
    counter = CountingApp(layer.app)
    layer.app = counter
    return counter


async def run_cases(
    server: RunningServer,
) -> tuple[dict[str, Outcome], dict[str, bool], dict[str, bool]]:
    """Every case's outcome, whether FastAPI answered it, and whether it reached the ASGI
    application at all (kabar's HTTP protocol answers hot requests without it)."""
    outcomes: dict[str, Outcome] = {}
    reached: dict[str, bool] = {}
    reached_asgi: dict[str, bool] = {}
    asgi_paths: list[str] = []
    original = KabarApp.__call__

    async def counted(self: KabarApp, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            asgi_paths.append(scope["path"])
        await original(self, scope, receive, send)

    async with Api(server.base_url) as api:
        scenario = Scenario(server, api)
        await scenario.setup()
        counter = count_fastapi_requests(server)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(KabarApp, "__call__", counted)
            for name, case in {**SEND_CASES, **SYNC_CASES}.items():
                before = len(counter.paths) if counter else 0
                before_asgi = len(asgi_paths)
                response = await case(scenario)
                outcomes[name] = outcome(response)
                reached[name] = counter is None or len(counter.paths) > before
                reached_asgi[name] = len(asgi_paths) > before_asgi
    return outcomes, reached, reached_asgi


@pytest.mark.parametrize("path", ["protocol", "asgi"])
async def test_hot_routes_answer_as_the_fastapi_routes_do(
    make_server: ServerFactory, database_url: str, tmp_path: Path, path: str
) -> None:
    """``protocol``: as served, kabar's HTTP protocol answers the hot routes itself;
    ``asgi``: under uvicorn's own protocol (any ASGI server), the ASGI layer does."""
    if path == "protocol":
        async with make_server(server={"hot_routes": True}) as server:
            hot, reached_fastapi, reached_asgi = await run_cases(server)
    else:
        config = server_config(database_url, tmp_path / "asgi", server={"hot_routes": True})
        async with serve_in_process(config, http_protocol=HeadHoldingHttpToolsProtocol) as server:
            hot, reached_fastapi, reached_asgi = await run_cases(server)
    async with make_server(server={"hot_routes": False}) as server:
        reference, _, _ = await run_cases(server)

    for name in reference:
        assert hot[name] == reference[name], name
    # Both paths answer as the API says, not merely alike.
    assert hot["sent"]["status"] == 200
    assert hot["sent"]["duplicate"] is False
    assert hot["duplicate"]["duplicate"] is True
    assert hot["duplicate"]["seq"] == hot["sent"]["seq"]
    assert hot["not a member"]["problem"]["code"] == "conversation_not_found"
    assert hot["no such conversation"] == hot["not a member"]
    assert hot["field missing"]["problem"]["code"] == "invalid_request"
    assert hot["field missing"]["problem"]["errors"]
    assert hot["no token"]["status"] == 401
    assert hot["no token"]["headers"]["www-authenticate"] == "Bearer"
    assert hot["no token and a bad body"]["status"] == 400  # FastAPI parses the body first
    assert hot["envelope over the message limit"]["problem"]["code"] == "payload_too_large"
    assert hot["body over the request limit"]["status"] == 413
    assert hot["from the start"]["event_types"]
    # The three sends that succeeded, after the setup's last sync.
    assert hot["at the end"]["event_types"] == ["message"] * 3
    assert hot["malformed since"]["problem"]["code"] == "invalid_sync_token"
    assert hot["another method"]["status"] == 405
    for name, result in hot.items():
        assert result["headers"]["x-content-type-options"] == "nosniff", name

    answered_by_layer = {name for name, reached in reached_fastapi.items() if not reached}
    assert answered_by_layer == HOT_SEND | HOT_SYNC
    without_asgi = {name for name, reached in reached_asgi.items() if not reached}
    assert without_asgi == (HOT_SEND | HOT_SYNC if path == "protocol" else set())


@pytest.mark.parametrize("hot_routes", [True, False])
async def test_sends_are_rate_limited_with_retry_after(
    make_server: ServerFactory, hot_routes: bool
) -> None:
    async with (
        make_server(
            server={"hot_routes": hot_routes},
            rate_limits={"enabled": True, "send_per_account": "3/min"},
        ) as server,
        Api(server.base_url) as api,
    ):
        alice = await api.register()
        group = await api.group(alice)
        statuses = []
        for _ in range(4):
            response = await api.http.put(
                f"/v1/conversations/{group}/messages/{uuid.uuid4().hex}",
                json=envelope(),
                headers=alice.headers,
            )
            statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429]
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["retry-after"]) >= 1


def requests_counted(metrics: str, method: str, route: str) -> float:
    """kabar_http_requests_total for one route with status 200 (the registry is per process)."""
    line = f'kabar_http_requests_total{{method="{method}",route="{route}",status="200"}} '
    for row in metrics.splitlines():
        if row.startswith(line):
            return float(row[len(line) :])
    return 0.0


@pytest.mark.parametrize("hot_routes", [True, False])
async def test_hot_routes_are_counted_under_their_route(
    make_server: ServerFactory, hot_routes: bool
) -> None:
    send_route = "/v1/conversations/{conversation_id}/messages/{txn_id}"
    async with (
        make_server(server={"hot_routes": hot_routes}) as server,
        Api(server.base_url) as api,
    ):
        alice = await api.register()
        group = await api.group(alice)
        before = (await api.http.get("/metrics")).text
        await api.send(alice, group)
        await api.send(alice, group)
        await api.sync(alice)
        after = (await api.http.get("/metrics")).text
    for method, route, count in (("PUT", send_route, 2), ("GET", "/v1/sync", 1)):
        counted = requests_counted(after, method, route) - requests_counted(before, method, route)
        assert counted == count, route


async def _stream_frames(api: Api, user: User, until: str) -> list[dict[str, Any]]:
    """The frames of a new stream for ``user``, up to the first of type ``until``."""
    ws = await api.stream(user)
    frames: list[dict[str, Any]] = []
    try:
        while not frames or frames[-1]["type"] != until:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
    finally:
        await ws.close()
    return frames


async def _close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes the stream (within 5 s): the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


@pytest.mark.parametrize("hot_routes", [True, False])
async def test_the_stream_is_served_past_fastapi_only_with_the_layer_on(
    make_server: ServerFactory, hot_routes: bool
) -> None:
    reached_fastapi: list[str] = []
    original = FastAPI.__call__

    async def counted(self: FastAPI, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            reached_fastapi.append(scope["path"])
        await original(self, scope, receive, send)

    async with (
        make_server(server={"hot_routes": hot_routes}) as server,
        Api(server.base_url) as api,
    ):
        alice = await api.register()
        group = await api.group(alice)
        await api.send(alice, group)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(FastAPI, "__call__", counted)
            caught_up = await _stream_frames(api, alice, until="ready")
            refused = await _close_code(
                await api.stream(dataclasses.replace(alice, token="kbr_not-a-token"))
            )
    # Either way the stream behaves the same: catch-up, then ready; a bad token is refused.
    assert [f["event"]["type"] for f in caught_up if f["type"] == "event"][-1] == "message"
    assert caught_up[-1]["token"].startswith("s")
    assert refused == 4001
    assert reached_fastapi == ([] if hot_routes else ["/v1/stream", "/v1/stream"])
