"""Stream invariants: one total order, gapless seq, identical on sync and WebSocket."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from support.api import Api, User, text_of


async def _stream_until(
    api: Api, user: User, count: int, since: str | None = None
) -> list[dict[str, Any]]:
    """Open a stream and collect ``count`` message events."""
    ws = await api.stream(user, since)
    events: list[dict[str, Any]] = []
    try:
        while len(events) < count:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if frame["type"] == "event" and frame["event"]["type"] == "message":
                events.append(frame["event"])
    finally:
        await ws.close()
    return events


async def test_concurrent_senders_get_gapless_seq_and_one_order_everywhere(api: Api) -> None:
    owner = await api.register()
    senders = [await api.register() for _ in range(20)]
    readers = [await api.register() for _ in range(3)]
    group = await api.group(owner, *senders, *readers)
    live = asyncio.create_task(_stream_until(api, readers[0], 20 * 50))

    async def storm(user: User) -> None:
        for i in range(50):
            await api.send(user, group, f"{user.username}:{i}")

    await asyncio.sleep(0.2)
    await asyncio.gather(*(storm(s) for s in senders))
    orders = []
    for reader in readers:
        events = [e for e in await api.sync_all(reader) if e["type"] == "message"]
        orders.append([e["event_id"] for e in events])
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + 1000))
        per_sender: dict[str, list[int]] = {}
        for e in events:
            name, i = text_of(e).split(":")
            per_sender.setdefault(name, []).append(int(i))
        assert all(v == list(range(50)) for v in per_sender.values())
    websocket_order = [e["event_id"] for e in await live]
    assert orders[0] == orders[1] == orders[2] == websocket_order
    assert len(set(orders[0])) == 1000


async def test_a_long_poll_wakes_when_an_event_arrives(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    await api.sync_all(bob)
    waiting = asyncio.create_task(api.sync(bob, timeout=10_000))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await api.send(alice, direct, "wake up")
    body = await waiting
    assert time.monotonic() - started < 2
    assert [text_of(e) for e in body["events"]] == ["wake up"]
    quiet = await api.sync(bob, timeout=50)
    assert quiet["events"] == []
    assert quiet["next"] == body["next"]


async def test_sync_pages_with_more_and_never_repeats(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    for i in range(30):
        await api.send(alice, direct, f"m{i}")
    pages = []
    while True:
        body = await api.sync(bob, limit=7)
        pages.append(body)
        if not body["more"]:
            break
    texts = [text_of(e) for p in pages for e in p["events"] if e["type"] == "message"]
    assert texts == [f"m{i}" for i in range(30)]
    assert all(len(p["events"]) <= 7 for p in pages)


async def test_a_client_resuming_with_its_last_token_misses_nothing(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    for i in range(10):
        await api.send(alice, direct, f"early{i}")
    ws = await api.stream(bob)
    seen: list[str] = []
    last_token = None
    while len(seen) < 5:
        frame = json.loads(await ws.recv())
        if frame["type"] == "event":
            last_token = frame["token"]
            if frame["event"]["type"] == "message":
                seen.append(text_of(frame["event"]))
    await ws.close()
    for i in range(10):
        await api.send(alice, direct, f"late{i}")
    rest = await _stream_until(api, bob, 15, since=last_token)
    assert seen + [text_of(e) for e in rest] == [f"early{i}" for i in range(10)] + [
        f"late{i}" for i in range(10)
    ]


async def test_websocket_sends_are_acknowledged_and_idempotent(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    ws = await api.stream(alice)
    frame = {
        "type": "send",
        "conversation_id": direct,
        "txn_id": "ws-1",
        "envelope": {"algorithm": "test.plain", "ciphertext": "aGk="},
    }
    acks = []
    await ws.send(json.dumps(frame))
    await ws.send(json.dumps(frame))
    while len(acks) < 2:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message["type"] == "ack":
            acks.append(message)
    await ws.close()
    assert acks[0]["event_id"] == acks[1]["event_id"]
    assert sorted(a["duplicate"] for a in acks) == [False, True]
    over_http = await api.send(alice, direct, "hi", txn_id="ws-1")
    assert over_http["duplicate"] is True
    assert over_http["event_id"] == acks[0]["event_id"]


async def test_websocket_send_errors_name_the_transaction(api: Api) -> None:
    alice = await api.register()
    ws = await api.stream(alice)
    await ws.send(
        json.dumps(
            {
                "type": "send",
                "conversation_id": "c_" + "a" * 26,
                "txn_id": "nope",
                "envelope": {"algorithm": "x", "ciphertext": "y"},
            }
        )
    )
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message["type"] == "error":
            break
    await ws.close()
    assert message["txn_id"] == "nope"
    assert (message["status"], message["code"]) == (404, "conversation_not_found")


async def test_a_slow_consumer_is_disconnected_and_resumes_without_loss(make_server) -> None:  # noqa: ANN001
    async with make_server(stream={"ws_buffer_frames": 8}) as server:
        api = Api(server.base_url)
        alice, bob = await api.register(), await api.register()
        direct = await api.direct(alice, bob)
        ws = await api.stream(bob)
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        big = "x" * 45_000
        for i in range(120):
            await api.send(alice, direct, f"{i}:{big}")
        received: list[str] = []
        token = None
        code = None
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame["type"] == "event":
                    token = frame["token"]
                    received.append(text_of(frame["event"]).split(":")[0])
        except Exception as exc:  # noqa: BLE001 - we want the close code
            code = getattr(getattr(exc, "rcvd", None), "code", None)
        finally:
            await ws.close()
        assert code == 4008
        assert len(received) < 120
        rest = await _stream_until(api, bob, 120 - len(received), since=token)
        assert received + [text_of(e).split(":")[0] for e in rest] == [str(i) for i in range(120)]
        await api.close()


async def test_a_new_device_can_start_from_now_instead_of_replaying(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    for i in range(5):
        await api.send(alice, direct, f"old{i}")
    new_device = await api.login(bob.username)
    position = await api.call("GET", "/v1/sync/position", new_device)
    await api.send(alice, direct, "new")
    body = await api.sync(new_device, since=position["next"])
    assert [text_of(e) for e in body["events"]] == ["new"]
    history = await api.history(new_device, direct)
    assert len([e for e in history["events"] if e["type"] == "message"]) == 6
