"""The HTTP protocol kabar serves with: uvicorn's httptools protocol, one write per response,
and the hot routes answered straight from the parsed request.

uvicorn writes a response's head and then its body with one ``transport.write`` each, and
uvloop sends each at once: two ``send`` system calls and two TCP segments per response, the
second often landing while the client is already reading the first. :class:`HeadHolder`
holds a response head until the body's write, which takes both in one write; if no write
follows in the same turn of the event loop (a streamed response still waiting for its
first chunk), the head goes out alone at the end of the turn. Everything else passes
straight through, and nothing is reordered: every write, close or abort sends a held head
first.

:class:`KabarHttpProtocol` also answers the two hot routes (``kabar.http.hot``: a send and
a sync, nearly every request a busy server gets) without the ASGI round of messages: where
uvicorn would start the application with ``scope``/``receive``/``send``, it reads the body
from the request cycle's buffer, runs the same :class:`~kabar.http.hot.HotRoutes` pieces
and writes the whole response — head and body, headers rendered once at import — in one
``transport.write``. That skips uvicorn's checks of each header an application hands it,
its message dicts, the held head's extra callback and the application's outer layers:
~6 % of the instructions a send costs the server, sequential or concurrent
(docs/performance.md). Everything else about the connection stays uvicorn's:
parsing, keep-alive, pipelining (the cycle and its queue are uvicorn's own),
``Expect: 100-continue``, flow control and disconnects. A request this path does not take
whole — any other route, a body that does not validate, no ``Content-Length`` — runs
through the application exactly as before. The hook overridden here, uvicorn's
``_start_asgi_task``, is private: a uvicorn without it never calls the override, and the
ASGI layer (``HotRoutes.__call__``) answers the hot routes instead, as under any other ASGI
server; ``tests/http/test_hot.py`` notices which path answered.

Both sit on :class:`IdleTimingHttpToolsProtocol`, which keeps uvicorn's keep-alive timeout
without making and cancelling a timer for every request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from kabar.http.hot import (
    JSON_HEADERS,
    Answer,
    ClientGone,
    HotRoutes,
    SendHead,
    SyncRequest,
    request_headers,
)

log = logging.getLogger(__name__)
_JSON_HEAD = b"".join(b"%s: %s\r\n" % header for header in JSON_HEADERS)
# uvloop's timers tick in milliseconds: an idle period this close to its end counts as over.
_TIMER_TICK_S = 0.001


class HeadHolder:
    """The connection's transport, holding back a response head for the next write."""

    __slots__ = ("_head", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
        elif data[:5] == b"HTTP/" and data[-4:] == b"\r\n\r\n":
            self._head = data
            self._loop.call_soon(self._release)
        else:
            self._transport.write(data)

    def _release(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head)

    def close(self) -> None:
        self._release()
        self._transport.close()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def __getattr__(self, name: str) -> Any:
        # Whatever else a protocol may ask of its transport.
        return getattr(self._transport, name)


class IdleTimingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a keep-alive timeout that costs no timer per request.

    uvicorn closes a keep-alive connection left idle for ``timeout_keep_alive`` seconds by
    arming a timer (``call_later``) when a response completes and cancelling it when the
    next request's bytes arrive: on a busy connection, a timer made and cancelled for every
    request, ~2.5 µs with uvloop (about 1 % of a send's server CPU, docs/performance.md).
    Here a completed response only notes when the connection went idle; the connection's one
    timer, armed when it first idles, looks when it fires: idle for the whole timeout, it
    closes the connection as uvicorn's would; idle for less, it waits for the time left;
    busy with a request, it stops, and that request's response arms it again. Same rule,
    same moment of closing."""

    _idle_since: float | None = None

    def _unset_keepalive_if_required(self) -> None:
        # uvicorn calls this when bytes arrive (and when the connection is lost): not idle.
        self._idle_since = None

    def on_response_complete(self) -> None:
        # uvicorn's own, but for how the keep-alive timeout is armed.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        # Not idle yet: the bytes of this response's request already cleared _idle_since.
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self._check_idle
            )

    def _check_idle(self) -> None:
        self.timeout_keep_alive_task = None
        idle_since = self._idle_since
        if idle_since is None:
            return  # a request is being answered: its response arms the timer again
        left = idle_since + self.timeout_keep_alive - self.loop.time()
        if left > _TIMER_TICK_S:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._check_idle)
        else:
            self.timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None


class HeadHoldingHttpToolsProtocol(IdleTimingHttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`HeadHolder`, timing idleness as
    :class:`IdleTimingHttpToolsProtocol` does."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they have its methods.
        holder: Any = HeadHolder(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(holder)


class KabarHttpProtocol(HeadHoldingHttpToolsProtocol):
    """:class:`HeadHoldingHttpToolsProtocol` answering the hot routes itself (module doc)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        hot = getattr(self.app, "hot", None)  # KabarApp's layer; None when it is off
        self.hot_routes = hot if isinstance(hot, HotRoutes) else None

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        hot = self.hot_routes
        # ``app`` is not the application when uvicorn answers 503 for its concurrency limit.
        if hot is not None and app is self.app:
            scope: Any = cycle.scope  # uvicorn's TypedDict; Starlette's layers take a Scope
            request = hot.request(scope)
            if request is not None:
                scope["app"] = app  # what KabarApp sets: handlers find the services there
                task = self.loop.create_task(_answer(hot, cycle, app, request))
                task.add_done_callback(self.tasks.discard)
                self.tasks.add(task)
                return
        super()._start_asgi_task(cycle, app)


async def _answer(
    hot: HotRoutes,
    cycle: RequestResponseCycle,
    app: ASGI3Application,
    request: SendHead | SyncRequest,
) -> None:
    """Answer one hot request on its cycle (in place of ``cycle.run_asgi``)."""
    scope: Any = cycle.scope
    try:
        headers = request_headers(scope)
        try:
            handler, body = await hot.handler(request, headers, lambda: _whole_body(cycle))
        except ClientGone:
            return
        if handler is None:
            if body is not None:  # the application words the 400: hand the body back
                cycle.body = bytearray(body)
                cycle.message_event.set()
            await cycle.run_asgi(app)
            return
        await _respond(cycle, await hot.answer(scope, headers, handler))
    except BaseException as exc:  # as uvicorn's run_asgi treats the application's failures
        log.error("Exception answering %s %s", scope["method"], scope["path"], exc_info=exc)
        if not cycle.response_started:
            await cycle.send_500_response()
        else:
            cycle.transport.close()
    finally:
        cycle.on_response = _nothing  # what run_asgi leaves: a late call starts nothing


async def _whole_body(cycle: RequestResponseCycle) -> bytes | None:
    """The request's body from the cycle's buffer (``cycle.receive``'s work, without its
    messages), or None if the client went away first."""
    if cycle.waiting_for_100_continue and not cycle.transport.is_closing():
        cycle.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        cycle.waiting_for_100_continue = False
    while cycle.more_body and not cycle.disconnected:
        cycle.flow.resume_reading()
        await cycle.message_event.wait()
        cycle.message_event.clear()
    if cycle.disconnected:
        return None
    body = bytes(cycle.body)
    cycle.body = bytearray()
    return body


async def _respond(cycle: RequestResponseCycle, answer: Answer) -> None:
    """Write a whole response in one write and complete the cycle, as ``cycle.send`` does
    for a head with a Content-Length and its body."""
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()
    if cycle.disconnected:
        return
    status, headers, body = answer
    parts = [STATUS_LINE[status]]
    for name, value in cycle.default_headers:  # Date (and Server, if configured)
        parts += (name, b": ", value, b"\r\n")
    if headers is JSON_HEADERS:
        parts.append(_JSON_HEAD)
    else:  # a problem document's: kabar's own constants and numbers, nothing from a client
        for name, value in headers:
            parts += (name, b": ", value, b"\r\n")
    parts.append(b"content-length: %d\r\n" % len(body))
    if not cycle.keep_alive:
        parts.append(b"connection: close\r\n")
    parts += (b"\r\n", body)
    if cycle.access_log:
        cycle.access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            get_client_addr(cycle.scope),
            cycle.scope["method"],
            get_path_with_query_string(cycle.scope),
            cycle.scope["http_version"],
            status,
        )
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    cycle.transport.write(b"".join(parts))
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()


def _nothing() -> None:
    pass
