"""Realtime delivery: live messages over the WebSocket, reconnects, dedupe, long-poll fallback."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from kabar.client.backoff import Backoff
from kabar.client.errors import ServerUnreachable, SignedOut
from kabar.client.models import Message
from kabar.client.stream import EventStream, SyncBatch, close_socket
from support.api import Api
from support.clients import People, bodies, settle
from support.server import RunningServer
from support.waiting import until


async def _next_message(subscription, seconds: float = 5.0) -> Message:  # noqa: ANN001
    async with asyncio.timeout(seconds):
        while True:
            update = await subscription.get()
            if isinstance(update, Message):
                return update


async def test_messages_arrive_live_and_sends_ride_the_socket(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await settle([alice, bob])
    updates = bob.subscribe()
    await bob.start()
    await alice.start()
    assert await bob.wait_live()
    assert await alice.wait_live()
    calls: list[str] = []
    original = alice.api.send_message

    async def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append("http")
        return await original(*args, **kwargs)

    alice.api.send_message = counting  # type: ignore[method-assign]
    await alice.send_text(chat.conversation_id, "live over the socket")
    message = await _next_message(updates)
    assert message.body == "live over the socket"
    assert calls == []  # acked over the WebSocket, not sent with HTTP
    await alice.stop()
    await bob.stop()


async def test_a_dropped_connection_resumes_without_loss_or_duplicates(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await settle([alice, bob])
    updates = bob.subscribe()
    await bob.start()
    assert await bob.wait_live()
    for round_ in range(3):
        stream = bob._stream
        assert stream is not None
        assert stream._ws is not None
        await stream._ws.close()  # the network drops the socket
        for i in range(3):
            await alice.send_text(chat.conversation_id, f"round {round_} message {i}")
        assert await bob.wait_live()
    received = [await _next_message(updates) for _ in range(9)]
    assert [m.body for m in received] == [
        f"round {r} message {i}" for r in range(3) for i in range(3)
    ]
    assert bodies(bob.history(chat.conversation_id)) == [m.body for m in received]
    assert updates.pending() == []  # nothing delivered twice
    await bob.stop()


async def test_the_stream_falls_back_to_long_polling_when_websockets_fail(
    people: People,
) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await settle([alice, bob])
    batches: list[SyncBatch] = []

    async def handler(batch: SyncBatch) -> None:
        batches.append(batch)

    token = bob.http.token or ""
    stream = EventStream(
        bob.api,
        token,
        bob.since,
        handler,
        poll_timeout_ms=200,
        ws_failures_before_poll=2,
        backoff=Backoff(base=0.01, cap=0.02),
    )
    stream.__class__ = type("BlockedStream", (EventStream,), {"ws_url": "ws://127.0.0.1:9/no"})
    task = asyncio.create_task(stream.run())
    try:
        await alice.send_text(chat.conversation_id, "through the long poll")
        await until(lambda: any(i.kind == "event" for b in batches for i in b.items), 10)
        assert stream.mode == "long-poll"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    events = [item.body for b in batches for item in b.items if item.kind == "event"]
    assert [e["type"] for e in events] == ["message"]


async def test_a_revoked_device_stops_its_stream(people: People) -> None:
    bob = await people.register("bob")
    phone = await people.login(bob.username)
    await phone.start()
    assert await phone.wait_live()
    await bob.revoke_device(phone.device_id)
    await until(lambda: phone.stream_error is not None)
    assert isinstance(phone.stream_error, SignedOut)


async def test_a_batch_that_fails_is_rolled_back_and_delivered_again(people: People) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await settle([alice, bob])
    updates = bob.subscribe()
    process = bob.receiver.process
    failures = []

    async def flaky(items):  # noqa: ANN001, ANN202
        if any(i.kind == "event" for i in items) and not failures:
            await process(items)  # the work is done, then the network fails
            failures.append(True)
            raise ServerUnreachable("the network went away mid-batch")
        return await process(items)

    bob.receiver.process = flaky  # type: ignore[method-assign]
    await bob.start()
    assert await bob.wait_live()
    await alice.send_text(chat.conversation_id, "delivered despite the failure")
    message = await _next_message(updates, seconds=10)
    assert message.body == "delivered despite the failure"
    assert failures == [True]
    assert bodies(bob.history(chat.conversation_id)) == ["delivered despite the failure"]
    await bob.stop()


async def test_closing_a_stream_with_unread_frames_does_not_wait_for_the_close_timeout(
    sqlite_server: RunningServer,
) -> None:
    # websockets stops reading from the network once 16 frames wait unread; a plain close()
    # then never sees the server's close frame and waits out close_timeout (10 s by default;
    # None here, so the old behaviour would hang until the guard below fails the test).
    async with Api(sqlite_server.base_url) as api:
        alice, bob = await api.register(), await api.register()
        chat = await api.direct(alice, bob)
        ws = await connect(
            sqlite_server.base_url.replace("http://", "ws://") + "/v1/stream",
            compression=None,
            close_timeout=None,
        )
        await ws.send(json.dumps({"type": "auth", "token": bob.token}))
        assert json.loads(await ws.recv())["type"] in ("event", "ready")
        for i in range(40):
            await api.send(alice, chat, f"unread {i}")
        await until(lambda: ws.recv_messages.paused)  # websockets stopped reading
        async with asyncio.timeout(5):
            await close_socket(ws)
        assert ws.close_code == 1000
