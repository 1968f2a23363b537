"""kabar's HTTP protocol: one write per response (a head waits for its body; nothing is reordered
or lost), the hot routes answered from the parsed request with uvicorn's connection rules:
pipelining, ``Expect: 100-continue``, bodies in pieces, clients that go away, HTTP/1.0; and
uvicorn's keep-alive timeout kept without a timer per request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kabar.http.protocol import HeadHolder
from support.api import Api
from support.databases import SqliteTemplates
from support.server import RunningServer, serve_in_process, server_config

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


# -- the hot routes answered by the protocol itself ------------------------------------------


def _responses(data: bytes) -> list[tuple[bytes, dict[bytes, bytes], bytes]]:
    """Split a byte stream of responses with Content-Length into (status line, headers, body)."""
    found = []
    while data:
        head, data = data.split(b"\r\n\r\n", 1)
        status, *lines = head.split(b"\r\n")
        headers = {}
        for line in lines:
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        found.append((status, headers, data[:length]))
        data = data[length:]
    return found


def _put(group: str, txn: str, token: str, body: bytes, *extra: bytes) -> bytes:
    head = [
        b"PUT /v1/conversations/%s/messages/%s HTTP/1.1" % (group.encode(), txn.encode()),
        b"Host: x",
        b"Authorization: Bearer " + token.encode(),
        b"Content-Type: application/json",
        b"Content-Length: %d" % len(body),
        *extra,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _sync(token: str, *extra: bytes) -> bytes:
    head = [
        b"GET /v1/sync?timeout=0 HTTP/1.1",
        b"Host: x",
        b"Authorization: Bearer %s" % token.encode(),
    ]
    return b"\r\n".join([*head, *extra]) + b"\r\n\r\n"


ENVELOPE = b'{"algorithm": "test.plain", "ciphertext": "b3BhcXVl"}'


async def _alice_and_group(server: RunningServer) -> tuple[str, str]:
    async with Api(server.base_url) as api:
        alice = await api.register()
        return alice.token, await api.group(alice)


async def test_pipelined_hot_requests_are_answered_whole_and_in_order(
    sqlite_server: RunningServer,
) -> None:
    token, group = await _alice_and_group(sqlite_server)
    request = (
        _put(group, "p-1", token, ENVELOPE)
        + _put(group, "p-2", token, b'{"algorithm": 1}')  # FastAPI words this 400
        + _put(group, "p-1", token, ENVELOPE)  # the same txn_id: the original event
        + _sync(token, b"Connection: close")
    )
    answers = _responses(await _exchange(sqlite_server, request))
    assert [status.split(b" ")[1] for status, _, _ in answers] == [b"200", b"400", b"200", b"200"]
    first, invalid, repeated, synced = (json.loads(body) for _, _, body in answers)
    assert first["duplicate"] is False
    assert repeated["duplicate"] is True
    assert repeated["seq"] == first["seq"]
    assert invalid["code"] == "invalid_request"
    assert [e["seq"] for e in synced["events"] if e["type"] == "message"] == [first["seq"]]
    for _, headers, _ in answers:
        assert headers[b"x-content-type-options"] == b"nosniff"
        assert b"date" in headers
    assert answers[-1][1][b"connection"] == b"close"


async def test_a_send_whose_body_comes_in_pieces_after_100_continue(
    sqlite_server: RunningServer,
) -> None:
    token, group = await _alice_and_group(sqlite_server)
    request = _put(group, "slow", token, ENVELOPE, b"Expect: 100-continue")
    head, body = request.split(b"\r\n\r\n", 1)
    host, port = sqlite_server.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + b"\r\n\r\n")
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == (
            b"HTTP/1.1 100 Continue\r\n\r\n"
        )
        for start in range(0, len(body), 10):
            writer.write(body[start : start + 10])
            await writer.drain()
            await asyncio.sleep(0.01)
        status, headers, content = _responses(await asyncio.wait_for(_one(reader), 5))[0]
    finally:
        writer.close()
    assert status.startswith(b"HTTP/1.1 200")
    assert json.loads(content)["seq"] >= 1
    assert headers[b"content-type"] == b"application/json"


async def _one(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    return head + await reader.readexactly(int(_responses(head)[0][1][b"content-length"]))


async def test_a_client_gone_before_its_body_ends_leaves_the_server_serving(
    sqlite_server: RunningServer,
) -> None:
    token, group = await _alice_and_group(sqlite_server)
    request = _put(group, "gone", token, ENVELOPE)
    host, port = sqlite_server.base_url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(request[:-5])
    await writer.drain()
    writer.close()
    await asyncio.sleep(0.05)
    answers = _responses(await _exchange(sqlite_server, _sync(token, b"Connection: close")))
    synced = json.loads(answers[0][2])
    assert not [e for e in synced["events"] if e["type"] == "message"]  # nothing was sent


async def test_http_1_0_hot_request_gets_its_answer_and_the_connection_closes(
    sqlite_server: RunningServer,
) -> None:
    token, group = await _alice_and_group(sqlite_server)
    request = _put(group, "old", token, ENVELOPE).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    answers = _responses(await _exchange(sqlite_server, request))  # reads to EOF
    assert len(answers) == 1
    assert answers[0][0].startswith(b"HTTP/1.1 200")
    assert answers[0][1][b"connection"] == b"close"


# -- the keep-alive timeout ------------------------------------------------------------------

KEEP_ALIVE_S = 0.6
HEALTH = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture
async def brief_keep_alive_server(
    tmp_path: Path, sqlite_templates: SqliteTemplates
) -> AsyncIterator[RunningServer]:
    url = await sqlite_templates.fresh(tmp_path)
    config = server_config(url, tmp_path / "server")
    async with serve_in_process(config, timeout_keep_alive=KEEP_ALIVE_S) as running:
        yield running


async def _open(server: RunningServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = server.base_url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def _closed_after(reader: asyncio.StreamReader) -> float:
    """Seconds until the server closes the connection (it sends nothing more meanwhile)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await asyncio.wait_for(reader.read(), 10) == b""
    return loop.time() - started


async def test_an_idle_keep_alive_connection_is_closed_once_the_timeout_has_passed(
    brief_keep_alive_server: RunningServer,
) -> None:
    reader, writer = await _open(brief_keep_alive_server)
    try:
        writer.write(HEALTH)
        status, _, _ = _responses(await asyncio.wait_for(_one(reader), 5))[0]
        assert status.startswith(b"HTTP/1.1 200")
        # Not before the timeout (the server started counting just before this answer left).
        assert await _closed_after(reader) >= KEEP_ALIVE_S - 0.1
    finally:
        writer.close()


async def test_a_connection_in_steady_use_outlives_the_timeout_then_closes_when_idle(
    brief_keep_alive_server: RunningServer,
) -> None:
    reader, writer = await _open(brief_keep_alive_server)
    try:
        # 15 requests a sixth of the timeout apart: the connection lives 2.5 timeouts, its
        # one timer finding it busy or idle too briefly each time it looks.
        for _ in range(15):
            writer.write(HEALTH)
            status, _, _ = _responses(await asyncio.wait_for(_one(reader), 5))[0]
            assert status.startswith(b"HTTP/1.1 200")
            await asyncio.sleep(KEEP_ALIVE_S / 6)
        assert await _closed_after(reader) >= KEEP_ALIVE_S - 0.1 - KEEP_ALIVE_S / 6
    finally:
        writer.close()


async def test_a_long_poll_longer_than_the_timeout_is_answered_on_its_connection(
    brief_keep_alive_server: RunningServer,
) -> None:
    token, _ = await _alice_and_group(brief_keep_alive_server)
    reader, writer = await _open(brief_keep_alive_server)
    try:
        writer.write(_sync(token))  # arms the idle timer when answered
        first = json.loads(_responses(await asyncio.wait_for(_one(reader), 5))[0][2])
        # A long-poll of three timeouts, with nothing to deliver: the timer fires while the
        # request is open and must leave the connection alone.
        poll = KEEP_ALIVE_S * 3
        writer.write(
            b"GET /v1/sync?since=%s&timeout=%d HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer %s\r\n\r\n"
            % (first["next"].encode(), int(poll * 1000), token.encode())
        )
        status, _, body = _responses(await asyncio.wait_for(_one(reader), 10))[0]
        assert status.startswith(b"HTTP/1.1 200")
        assert json.loads(body)["events"] == []
        assert await _closed_after(reader) >= KEEP_ALIVE_S - 0.1
    finally:
        writer.close()
