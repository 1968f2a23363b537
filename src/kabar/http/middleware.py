"""ASGI middleware: request body limits and per-route metrics.

Written as plain ASGI (not BaseHTTPMiddleware) so it costs almost nothing on
the hot path and never buffers bodies or breaks WebSockets.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kabar import metrics
from kabar.errors import PayloadTooLarge, Unavailable
from kabar.http.problems import render
from kabar.store.database import describe_unavailable, is_unavailable

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a request body passes its limit."""


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by header or while streaming.

    ``larger`` allows bigger bodies on the paths its patterns match (image uploads).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: tuple[tuple[re.Pattern[str], int], ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger

    def _limit(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope.get("path", ""))
        error = PayloadTooLarge(f"request bodies are at most {max_bytes} bytes")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await render(error)(scope, receive, send)
                    return
        received = 0
        exceeded = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Fail the read: a handler streaming the body (blob uploads) aborts
                    # instead of keeping a truncated copy; FastAPI's JSON parsing turns
                    # it into a 400, which guarded_send replaces with our 413.
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if exceeded:
                if message["type"] == "http.response.start" and not replaced:
                    replaced = True
                    await render(error)(scope, receive, send)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
            if not replaced:
                await render(error)(scope, receive, send)


class StorageOutages:
    """Answer 503 (with Retry-After) when a request fails because the database is unreachable.

    This runs inside Starlette's error middleware on purpose: that one re-raises after
    answering, and the server then drops the connection instead of letting the client
    read the answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or not is_unavailable(exc):
                raise
            log.warning("storage unavailable: %s", describe_unavailable(exc))
            await render(Unavailable("storage is unavailable; retry shortly"))(scope, receive, send)


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = _route(scope)
            metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
