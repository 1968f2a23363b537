"""The group-commit writer: a write that does not commit in time is answered 503, and a retry
with the same txn_id finds it once it has committed."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from conftest import ServerFactory
from kabar.errors import Unavailable
from support.api import Api


async def test_a_send_stuck_behind_a_slow_write_times_out_and_its_retry_finds_it(
    make_server: ServerFactory,
) -> None:
    async with (
        make_server(stream={"commit_timeout_seconds": 0.3}) as server,
        Api(server.base_url) as api,
    ):
        alice = await api.register()
        group = await api.group(alice)
        release = asyncio.Event()

        async def slow(_tx: Any) -> None:
            await release.wait()

        blocker = asyncio.create_task(server.services.writer.run(slow))
        await asyncio.sleep(0.05)
        envelope = {"algorithm": "test.plain", "ciphertext": base64.b64encode(b"late").decode()}
        path = f"/v1/conversations/{group}/messages/txn-late"
        stuck = await api.http.put(path, json=envelope, headers=alice.headers)
        assert stuck.status_code == 503
        assert stuck.json()["code"] == "unavailable"
        assert "retry with the same txn_id" in stuck.json()["detail"]
        with pytest.raises(Unavailable):
            await blocker  # the slow job's own caller timed out too

        release.set()
        for _ in range(50):  # the queued send commits once the slow job is done
            retry = await api.http.put(path, json=envelope, headers=alice.headers)
            if retry.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert retry.status_code == 200
        assert retry.json()["duplicate"] is True
        history = await api.history(alice, group)
        messages = [e for e in history["events"] if e["type"] == "message"]
        assert [e["event_id"] for e in messages] == [retry.json()["event_id"]]
