"""The hub: batch encoding, catching up from the store when the broker missed something, and
waking thousands of listeners a chunk at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kabar.delivery.events import Dispatch, StreamBatch
from kabar.delivery.hub import WAKE_CHUNK, Listener
from support.api import Api, text_of
from support.server import serve_in_process, server_config


def test_stream_batches_survive_encoding() -> None:
    batch = StreamBatch(
        first=7,
        last=9,
        items=[
            Dispatch(pos=7, frame=b'{"a":1}', conversation_id="c_x", joins=("a_1", "a_2")),
            Dispatch(pos=8, frame='{"é":"ü\\n"}'.encode(), to_device=True, device_id="d_1"),
            Dispatch(pos=9, frame=b"{}", target_account="a_3", leaves=("a_1",)),
        ],
    )
    assert StreamBatch.decode(batch.encode()) == batch


async def test_a_node_delivers_events_another_node_committed_without_a_shared_broker(
    database_url: str, tmp_path: Path
) -> None:
    config = server_config(database_url, tmp_path)
    async with serve_in_process(config) as node_a, serve_in_process(config) as node_b:
        on_a, on_b = Api(node_a.base_url), Api(node_b.base_url)
        alice = await on_a.register()
        bob = await on_b.login((await on_a.register()).username)
        direct = await on_a.direct(alice, bob)
        await on_b.sync_all(bob)
        waiting = asyncio.create_task(on_b.sync(bob, timeout=10_000))
        await asyncio.sleep(0.1)
        await on_a.send(alice, direct, "across nodes")
        body = await asyncio.wait_for(waiting, 8)
        assert [text_of(e) for e in body["events"] if e["type"] == "message"] == ["across nodes"]
        # And the other way round, through node B's writer and node A's hub.
        await on_a.sync_all(alice)
        waiting = asyncio.create_task(on_a.sync(alice, timeout=10_000))
        await asyncio.sleep(0.1)
        await on_b.send(bob, direct, "and back")
        body = await asyncio.wait_for(waiting, 8)
        assert [text_of(e) for e in body["events"] if e["type"] == "message"] == ["and back"]
        await on_a.close()
        await on_b.close()


async def test_the_stream_position_metric_is_the_last_position_this_node_saw(
    database_url: str, tmp_path: Path
) -> None:
    config = server_config(database_url, tmp_path)
    async with serve_in_process(config) as node, Api(node.base_url) as api:
        alice = await api.register()
        group = await api.group(alice)
        sent = await api.send(alice, group)
        metrics = (await api.http.get("/metrics")).text
    line = next(row for row in metrics.splitlines() if row.startswith("kabar_stream_position "))
    assert float(line.split()[1]) == int(sent["token"][1:])


async def test_a_batch_for_many_listeners_wakes_them_a_chunk_per_loop_turn(
    database_url: str, tmp_path: Path
) -> None:
    # Every listener has the item at once, but only WAKE_CHUNK consumers are woken at once
    # and the rest that many per turn, so that other requests run in between; one that
    # took its item before its turn is not woken for nothing.
    config = server_config(database_url, tmp_path)
    async with serve_in_process(config) as node, Api(node.base_url) as api:
        alice = await api.register()
        group = await api.group(alice)
        hub = node.services.hub
        view = await hub.view(alice.account_id)
        listeners = [
            Listener(alice.account_id, alice.device_id, hub.watermark, max_items=10)
            for _ in range(2 * WAKE_CHUNK + 10)
        ]
        for listener in listeners:
            hub.attach(view, listener, pending=False)
        at_routing: list[tuple[int, int]] = []
        taken_early: list[Listener] = []

        def after_the_hub(batch: StreamBatch) -> None:
            at_routing.append(
                (
                    sum(bool(lst.items) for lst in listeners),
                    sum(lst.wakeup.is_set() for lst in listeners),
                )
            )
            # A consumer whose wake-up is deferred takes its item before its turn comes.
            early = next(lst for lst in listeners if not lst.wakeup.is_set())
            taken_early.append(early)
            assert early.take()

        node.services.writer.on_commit(after_the_hub)
        try:
            await api.send(alice, group, "to every listener")
            for _ in range(10):
                await asyncio.sleep(0)
            assert at_routing == [(len(listeners), WAKE_CHUNK)]
            early = taken_early[0]
            assert not early.wakeup.is_set()
            others = [lst for lst in listeners if lst is not early]
            assert all(lst.wakeup.is_set() for lst in others)
            assert all(len(lst.items) == 1 for lst in others)
        finally:
            for listener in listeners:
                hub.detach(view, listener)
