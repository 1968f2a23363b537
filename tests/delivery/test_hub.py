"""The hub: batch encoding, and catching up from the store when the broker missed something."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kabar.delivery.events import Dispatch, StreamBatch
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
