"""One write per response: a response head waits for its body, and nothing is reordered or lost."""

from __future__ import annotations

import asyncio
from typing import Any

from kabar.http.protocol import HeadHolder
from support.server import RunningServer

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def abort(self) -> None:
        self.events.append("abort")
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1234) if name == "peername" else default


def _holder() -> tuple[HeadHolder, RecordingTransport]:
    transport = RecordingTransport()
    return HeadHolder(transport, asyncio.get_running_loop()), transport  # type: ignore[arg-type]


async def test_a_head_and_its_body_leave_in_one_write() -> None:
    holder, transport = _holder()
    holder.write(HEAD)
    assert transport.writes == []
    holder.write(b"{}")
    assert transport.writes == [HEAD + b"{}"]
    await asyncio.sleep(0)  # the end-of-turn release finds nothing left to send
    assert transport.writes == [HEAD + b"{}"]


async def test_a_head_without_a_body_in_the_same_turn_goes_out_at_the_end_of_it() -> None:
    holder, transport = _holder()
    holder.write(HEAD)  # e.g. a streamed response whose first chunk is not ready yet
    await asyncio.sleep(0)
    assert transport.writes == [HEAD]
    holder.write(b"{}")
    assert transport.writes == [HEAD, b"{}"]


async def test_other_writes_pass_straight_through() -> None:
    holder, transport = _holder()
    holder.write(b"\x81\x02hi")  # a WebSocket frame
    holder.write(b"HTTP/1.1 is not a head without its blank line")
    assert transport.writes == [b"\x81\x02hi", b"HTTP/1.1 is not a head without its blank line"]
    assert holder.get_extra_info("peername") == ("127.0.0.1", 1234)


async def test_closing_sends_a_held_head_first_and_aborting_drops_it() -> None:
    holder, transport = _holder()
    holder.write(HEAD)
    holder.close()
    assert transport.writes == [HEAD]
    assert transport.events == ["close"]
    assert holder.is_closing()

    holder, transport = _holder()
    holder.write(HEAD)
    holder.abort()
    await asyncio.sleep(0)
    assert transport.writes == []
    assert transport.events == ["abort"]


async def _exchange(server: RunningServer, request: bytes) -> bytes:
    host, port = server.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(-1), 5)
    finally:
        writer.close()


async def test_pipelined_get_and_head_requests_get_whole_answers_in_order(
    sqlite_server: RunningServer,
) -> None:
    request = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /v1/nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    answer = await _exchange(sqlite_server, request)
    first, rest = answer.split(b"\r\n\r\n", 1)
    assert first.startswith(b"HTTP/1.1 200")
    length = int(
        next(h for h in first.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
            b":"
        )[1]
    )
    assert rest[:length].startswith(b'{"status":"ok"')
    second, third = rest[length:].split(b"\r\n\r\n", 1)
    assert second.startswith(b"HTTP/1.1 405")  # HEAD: a head (with its length) and no body
    assert third.startswith(b"HTTP/1.1 404")
    assert b'"code":"not_found"' in third
