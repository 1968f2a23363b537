"""Two nodes sharing a database and a Redis broker behave as one server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from support.api import Api, text_of
from support.redis import RedisForTest
from support.server import serve_in_process, server_config


async def test_events_cross_nodes_through_redis_in_one_order(
    database_url: str, tmp_path: Path, redis_for: RedisForTest
) -> None:
    config = server_config(
        database_url, tmp_path, broker={"url": redis_for.url, "key_prefix": redis_for.prefix}
    )
    async with serve_in_process(config) as node_a, serve_in_process(config) as node_b:
        on_a, on_b = Api(node_a.base_url), Api(node_b.base_url)
        owner = await on_a.register()
        writers_a = [await on_a.register() for _ in range(3)]
        writers_b = [await on_b.register() for _ in range(3)]
        reader = await on_b.register()
        group = await on_a.group(owner, *writers_a, *writers_b, reader)
        ws = await on_b.stream(reader)
        while json.loads(await ws.recv())["type"] != "ready":
            pass

        async def storm(api: Api, user, n: int) -> None:  # noqa: ANN001
            for i in range(n):
                await api.send(user, group, f"{user.username}:{i}")

        await asyncio.gather(
            *(storm(on_a, u, 30) for u in writers_a), *(storm(on_b, u, 30) for u in writers_b)
        )
        live = []
        while len(live) < 180:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] == "event" and frame["event"]["type"] == "message":
                live.append(frame["event"])
        await ws.close()
        synced_a = [e for e in await on_a.sync_all(owner) if e["type"] == "message"]
        assert [e["event_id"] for e in live] == [e["event_id"] for e in synced_a]
        assert [e["seq"] for e in live] == list(range(2, 182))
        for user in writers_a + writers_b:
            mine = [int(text_of(e).split(":")[1]) for e in live if e["sender"] == user.username]
            assert mine == list(range(30))
        assert node_b.services.hub.batches_from_broker > 0
        assert node_a.services.hub.batches_from_broker > 0
        await on_a.close()
        await on_b.close()


async def test_revoking_a_device_on_one_node_closes_its_stream_on_the_other(
    database_url: str, tmp_path: Path, redis_for: RedisForTest
) -> None:
    config = server_config(
        database_url, tmp_path, broker={"url": redis_for.url, "key_prefix": redis_for.prefix}
    )
    async with serve_in_process(config) as node_a, serve_in_process(config) as node_b:
        on_a, on_b = Api(node_a.base_url), Api(node_b.base_url)
        laptop = await on_a.register()
        phone = await on_b.login(laptop.username)
        await on_b.call("GET", "/v1/account", phone)  # cached on node B
        ws = await on_b.stream(phone)
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        await on_a.call("DELETE", f"/v1/devices/{phone.device_id}", laptop)
        closed = None
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 2)
        except Exception as exc:  # noqa: BLE001 - we want the close frame
            closed = getattr(getattr(exc, "rcvd", None), "code", None)
        assert closed == 4001
        status = (await on_b.http.get("/v1/account", headers=phone.headers)).status_code
        assert status == 401
        await on_a.close()
        await on_b.close()
