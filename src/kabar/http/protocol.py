"""The HTTP protocol kabar serves with: uvicorn's httptools protocol, one write per response.

uvicorn writes a response's head and then its body with one ``transport.write`` each, and
uvloop sends each at once: two ``send`` system calls and two TCP segments per response, the
second often landing while the client is already reading the first. :class:`HeadHolder`
holds a response head until the body's write, which takes both in one write; if no write
follows in the same turn of the event loop (a streamed response still waiting for its
first chunk), the head goes out alone at the end of the turn. Everything else passes
straight through, and nothing is reordered: every write, close or abort sends a held head
first.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


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


class HeadHoldingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`HeadHolder`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they have its methods.
        holder: Any = HeadHolder(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(holder)
