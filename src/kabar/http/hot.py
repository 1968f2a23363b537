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
from typing import Any, Protocol
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
from kabar.store.database import describe_unavailable, is_unavailable

log = logging.getLogger(__name__)

SEND_ROUTE = "/v1/conversations/{conversation_id}/messages/{txn_id}"
SYNC_ROUTE = "/v1/sync"
# The FastAPI route's own path constraints (ConversationIdPath, TxnIdPath).
_SEND_PATH = re.compile(r"/v1/conversations/([^/]{1,40})/messages/([A-Za-z0-9._~-]{1,64})")
_NUMBER = re.compile(r"[0-9]{1,6}")
JSON_HEADERS = [(b"content-type", b"application/json")] + [
    (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in ALWAYS.items()
]
_SECURITY_HEADERS = JSON_HEADERS[1:]
_counted: dict[tuple[str, int], tuple[Any, Any]] = {}  # each route has one method
_READ_HEADERS = frozenset(
    (b"authorization", b"content-length", b"content-type", b"x-forwarded-for")
)


class Handler(Protocol):
    """One hot request, ready to run once its caller is known."""

    method: str
    route: str

    def __call__(
        self, svc: Services, principal: Principal, scope: Scope, headers: dict[bytes, bytes]
    ) -> Awaitable[bytes]: ...


class SendHead:
    """A send's request line, before its body: where it goes and its transaction id."""

    __slots__ = ("conversation_id", "txn_id")

    def __init__(self, conversation_id: str, txn_id: str) -> None:
        self.conversation_id = conversation_id
        self.txn_id = txn_id


class ClientGone(Exception):
    """The client went away while sending a request's body: nobody is left to answer."""


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
"""A response: status, headers (without Content-Length) and body."""


class HotRoutes:
    """ASGI wrapper answering the send and sync routes directly (see the module doc).

    ``app`` is the full application, for every other request. ``scope["app"]`` must be the
    FastAPI application (its ``state.services``). The pieces (:meth:`request`,
    :meth:`handler`, :meth:`answer`) also serve kabar's HTTP protocol
    (``kabar.http.protocol``), which calls them without the ASGI round of messages."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = self.request(scope)
        if request is not None:
            headers = request_headers(scope)
            try:
                handler, body = await self.handler(request, headers, lambda: _read_body(receive))
            except ClientGone:
                return
            if handler is not None:
                status, answer_headers, content = await self.answer(scope, headers, handler)
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [*answer_headers, (b"content-length", b"%d" % len(content))],
                    }
                )
                await send({"type": "http.response.body", "body": content})
                return
            if body is not None:
                receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def request(self, scope: Scope) -> SendHead | SyncRequest | None:
        """The hot route a request's head asks for, or None (the full application answers)."""
        if scope["type"] != "http" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        method: str = scope["method"]
        if path == SYNC_ROUTE and method == "GET":
            query = _sync_query(scope["query_string"])
            return None if query is None else SyncRequest(*query)
        if method == "PUT" and path.startswith("/v1/conversations/"):
            match = _SEND_PATH.fullmatch(path)
            if match is not None:
                return SendHead(match[1], match[2])
        return None

    async def handler(
        self,
        request: SendHead | SyncRequest,
        headers: dict[bytes, bytes],
        read_body: Callable[[], Awaitable[bytes | None]],
    ) -> tuple[Handler | None, bytes | None]:
        """What answers ``request``: its handler; or None — the full application answers —
        with the body if it was read (to hand back to it). ``read_body`` gives the whole body,
        or None if the client went away (then :class:`ClientGone`)."""
        if not isinstance(request, SendHead):
            return request, None
        if not self.takes_body(headers):
            return None, None
        body = await read_body()
        if body is None:
            raise ClientGone
        return self.send(request, body), body

    def takes_body(self, headers: dict[bytes, bytes]) -> bool:
        """Whether a send's body is one this layer reads: a JSON body of a stated length
        within the limit. BodyLimit or FastAPI answer the rest, as they always did."""
        length = headers.get(b"content-length")
        content_type = headers.get(b"content-type")
        return not (
            length is None
            or not length.isdigit()
            or int(length) > self.max_body_bytes
            or (content_type is not None and not _is_json(content_type))
        )

    def send(self, head: SendHead, body: bytes) -> Handler | None:
        """The send with this body, or None if the body does not validate (FastAPI then
        words the 400, or finds the token missing first)."""
        if len(body) > self.max_body_bytes:
            return None
        try:
            envelope = EnvelopeIn.model_validate_json(body)
        except ValidationError:
            return None
        return _Send(head.conversation_id, head.txn_id, envelope)

    async def answer(self, scope: Scope, headers: dict[bytes, bytes], handler: Handler) -> Answer:
        """Authenticate the caller and run ``handler``: its answer, or the problem document
        of whatever went wrong. Counted and timed under the route's name."""
        started = time.perf_counter()
        status = 500
        try:
            svc: Services = scope["app"].state.services
            authorization = headers.get(b"authorization")
            token = bearer_token(authorization.decode("latin-1") if authorization else None)
            try:
                principal = await svc.auth.authenticate(token)
                body = await handler(svc, principal, scope, headers)
                status = 200
                return status, JSON_HEADERS, body
            except KabarError as error:
                status, body, answer_headers = _problem(render(error))
            except Exception as error:
                if is_unavailable(error):
                    log.warning("storage unavailable: %s", describe_unavailable(error))
                    answer = render(Unavailable("storage is unavailable; retry shortly"))
                else:
                    answer = unexpected(error)
                status, body, answer_headers = _problem(answer)
            return status, answer_headers, body
        finally:
            route = handler.route
            counted = _counted.get((route, status))
            if counted is None:  # labels() takes a lock and builds a key: do it once per pair
                counted = _counted[route, status] = (
                    metrics.HTTP_REQUESTS.labels(handler.method, route, str(status)),
                    metrics.HTTP_LATENCY.labels(route),
                )
            counted[0].inc()
            counted[1].observe(time.perf_counter() - started)


class _Send:
    method = "PUT"
    route = SEND_ROUTE

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


class SyncRequest:
    method = "GET"
    route = SYNC_ROUTE

    def __init__(self, since: str | None, timeout_ms: int, limit: int) -> None:
        self.since = since
        self.timeout_ms = timeout_ms
        self.limit = limit

    async def __call__(
        self, svc: Services, principal: Principal, scope: Scope, headers: dict[bytes, bytes]
    ) -> bytes:
        return await sync_page(svc, principal, self.since, self.timeout_ms, self.limit)


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


def request_headers(scope: Scope) -> dict[bytes, bytes]:
    """The request headers the hot routes read, each at its first occurrence, in one pass."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _READ_HEADERS and name not in found:
            found[name] = value
    return found


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


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
