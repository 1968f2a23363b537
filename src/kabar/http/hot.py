"""The two hottest routes, answered without FastAPI's per-request machinery.

Sending a message (``PUT /v1/conversations/{id}/messages/{txn_id}``) and syncing
(``GET /v1/sync``) are nearly every request a busy server answers. Through FastAPI each
paid for dependency solving, a dozen nested ASGI layers and four middlewares before
kabar's own code ran — most of a send's server CPU (docs/performance.md), and under the
GIL that capped how many sends one process could take. This layer, which
``kabar.app.KabarApp`` calls first, ahead of FastAPI and every middleware, answers exactly
those two routes itself: the same services through the same
functions (``send_envelope``, ``sync_page``), the same authentication, problem documents,
security headers and metrics.

The FastAPI routes stay the definition of the API (OpenAPI, validation and its messages).
Whenever a request is not plainly well-formed — another method, a malformed path or query,
a body that does not validate, another content type, a missing or too large
``Content-Length`` — it goes to the full application untouched (its body replayed), before
anything has happened, so its answer is the reference one. ``server.hot_routes = false``
turns this layer off; tests hold both paths to the same contract.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kabar import metrics
from kabar.accounts.models import Principal
from kabar.delivery import events as ev
from kabar.errors import KabarError, Unavailable
from kabar.http.conversations import EnvelopeIn, send_envelope
from kabar.http.deps import Caller, address_behind, bearer_token
from kabar.http.problems import render, unexpected
from kabar.http.security import ALWAYS
from kabar.http.sync import sync_page
from kabar.services import Services
from kabar.store.database import is_unavailable

log = logging.getLogger(__name__)

SEND_ROUTE = "/v1/conversations/{conversation_id}/messages/{txn_id}"
SYNC_ROUTE = "/v1/sync"
# The FastAPI route's own path constraints (ConversationIdPath, TxnIdPath).
_SEND_PATH = re.compile(r"/v1/conversations/([^/]{1,40})/messages/([A-Za-z0-9._~-]{1,64})")
_NUMBER = re.compile(r"[0-9]{1,6}")
_JSON_HEADERS = [(b"content-type", b"application/json")] + [
    (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in ALWAYS.items()
]
_SECURITY_HEADERS = _JSON_HEADERS[1:]
_counted: dict[tuple[str, int], tuple[Any, Any]] = {}  # each route has one method
_READ_HEADERS = frozenset(
    (b"authorization", b"content-length", b"content-type", b"x-forwarded-for")
)
Handler = Callable[[Services, Principal, Scope, dict[bytes, bytes]], Awaitable[bytes]]


class HotRoutes:
    """ASGI wrapper answering the send and sync routes directly (see the module doc).

    ``app`` is the full application, for every other request. ``scope["app"]`` must be the
    FastAPI application (its ``state.services``)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            path: str = scope["path"]
            method: str = scope["method"]
            if path == SYNC_ROUTE and method == "GET":
                query = _sync_query(scope["query_string"])
                if query is not None:
                    headers = _headers(scope)
                    await _measured(scope, headers, send, "GET", SYNC_ROUTE, _Sync(*query))
                    return
            elif method == "PUT" and path.startswith("/v1/conversations/"):
                match = _SEND_PATH.fullmatch(path)
                if match is not None:
                    headers = _headers(scope)
                    body = await self._envelope(headers, receive)
                    if isinstance(body, EnvelopeIn):
                        handler = _Send(match[1], match[2], body)
                        await _measured(scope, headers, send, "PUT", SEND_ROUTE, handler)
                        return
                    if body is None:
                        return  # the client went away while sending its body
                    receive = body
        await self.app(scope, receive, send)

    async def _envelope(
        self, headers: dict[bytes, bytes], receive: Receive
    ) -> EnvelopeIn | Receive | None:
        """The validated body; or a ``receive`` replaying it for the full application."""
        length = headers.get(b"content-length")
        content_type = headers.get(b"content-type")
        if (
            length is None
            or not length.isdigit()
            or int(length) > self.max_body_bytes
            or (content_type is not None and not _is_json(content_type))
        ):
            return receive  # BodyLimit or FastAPI answers these, as they always did
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if len(body) <= self.max_body_bytes:
            try:
                return EnvelopeIn.model_validate_json(body)
            except ValidationError:
                pass  # FastAPI words the 400 (or finds the token missing first)
        return _replay(body, receive)


class _Send:
    def __init__(self, conversation_id: str, txn_id: str, body: EnvelopeIn) -> None:
        self.conversation_id = conversation_id
        self.txn_id = txn_id
        self.body = body

    async def __call__(
        self, svc: Services, principal: Principal, scope: Scope, headers: dict[bytes, bytes]
    ) -> bytes:
        client = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for")
        address = address_behind(
            client[0] if client else "unknown",
            forwarded.decode("latin-1") if forwarded is not None else None,
            svc.config.server.trusted_proxies,
        )
        answer = await send_envelope(
            svc, Caller(principal, address), self.conversation_id, self.txn_id, self.body
        )
        # Byte for byte what Starlette's JSONResponse renders.
        return ev.dumps(answer).encode()


class _Sync:
    def __init__(self, since: str | None, timeout_ms: int, limit: int) -> None:
        self.since = since
        self.timeout_ms = timeout_ms
        self.limit = limit

    async def __call__(
        self, svc: Services, principal: Principal, scope: Scope, headers: dict[bytes, bytes]
    ) -> bytes:
        return await sync_page(svc, principal, self.since, self.timeout_ms, self.limit)


async def _measured(
    scope: Scope,
    headers: dict[bytes, bytes],
    send: Send,
    method: str,
    route: str,
    handler: Handler,
) -> None:
    """Authenticate the caller, run ``handler`` and answer with its body, or with the problem
    document of whatever went wrong."""
    started = time.perf_counter()
    status = 500
    try:
        svc: Services = scope["app"].state.services
        authorization = headers.get(b"authorization")
        token = bearer_token(authorization.decode("latin-1") if authorization else None)
        try:
            principal = await svc.auth.authenticate(token)
            body = await handler(svc, principal, scope, headers)
            status, answer_headers = 200, _JSON_HEADERS
        except KabarError as error:
            status, body, answer_headers = _problem(render(error))
        except Exception as error:
            if is_unavailable(error):
                log.warning("storage unavailable: %s", error.__class__.__name__)
                answer = render(Unavailable("storage is unavailable; retry shortly"))
            else:
                answer = unexpected(error)
            status, body, answer_headers = _problem(answer)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*answer_headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
    finally:
        counted = _counted.get((route, status))
        if counted is None:  # labels() takes a lock and builds a key: do it once per pair
            counted = _counted[route, status] = (
                metrics.HTTP_REQUESTS.labels(method, route, str(status)),
                metrics.HTTP_LATENCY.labels(route),
            )
        counted[0].inc()
        counted[1].observe(time.perf_counter() - started)


def _problem(response: Any) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """A rendered problem response as status, body and headers (without its length)."""
    headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
    return response.status_code, bytes(response.body), headers + _SECURITY_HEADERS


def _sync_query(raw: bytes) -> tuple[str | None, int, int] | None:
    """``since``, ``timeout`` and ``limit`` if each is plainly valid, else None."""
    since: str | None = None
    timeout_ms, limit = 0, 500
    seen: set[str] = set()
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key in seen:
            return None
        seen.add(key)
        if key == "since" and len(value) <= 24:
            since = value
        elif key == "timeout" and _NUMBER.fullmatch(value) and int(value) <= 300_000:
            timeout_ms = int(value)
        elif key == "limit" and _NUMBER.fullmatch(value) and 1 <= int(value) <= 1000:
            limit = int(value)
        else:
            return None
    return since, timeout_ms, limit


def _is_json(content_type: bytes) -> bool:
    return content_type.split(b";", 1)[0].strip().lower() == b"application/json"


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request headers the hot routes read, each at its first occurrence, in one pass."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _READ_HEADERS and name not in found:
            found[name] = value
    return found


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over ``body`` once, then whatever the client sends next."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
