"""Durable acknowledgements: SIGKILL during a send storm loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path

import httpx
import pytest

from support.api import Api, User
from support.server import CHEAP_ARGON2, ServerProcess


def _env(database_url: str, data: Path) -> dict[str, str]:
    env = {
        "KABAR_DATABASE_URL": database_url,
        "KABAR_DATABASE_SQLITE_SYNCHRONOUS": "FULL",
        "KABAR_RATE_LIMITS_ENABLED": "false",
        "KABAR_MEDIA_DIRECTORY": str(data / "media"),
        "KABAR_SERVER_LOG_LEVEL": "warning",
    }
    env.update({f"KABAR_SECURITY_{k.upper()}": str(v) for k, v in CHEAP_ARGON2.items()})
    return env


@pytest.mark.slow
async def test_sigkill_during_a_send_storm_keeps_every_acked_message_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(_env(database_url, tmp_path), tmp_path / "server.log")
    await server.start()
    api = Api(server.base_url)
    try:
        alice, bob = await api.register(), await api.register()
        senders = [alice] + [await api.login(alice.username) for _ in range(7)]
        group = await api.group(alice, bob)
        acked: dict[str, int] = {}
        attempted: set[str] = set()

        async def storm(device: User, index: int, stop: asyncio.Event) -> None:
            i = 0
            while not stop.is_set():
                txn = f"d{index}-{i}"
                attempted.add(txn)
                try:
                    sent = await api.send(device, group, txn, txn_id=txn)
                except (httpx.HTTPError, AssertionError):
                    return
                acked[txn] = sent["seq"]
                i += 1

        for _round in range(2):
            stop = asyncio.Event()
            tasks = [asyncio.create_task(storm(d, n, stop)) for n, d in enumerate(senders)]
            await asyncio.sleep(0.8 + random.random() * 0.4)
            server.kill()
            stop.set()
            for task in tasks:
                with contextlib.suppress(Exception):
                    await task
            await api.close()
            await server.start()
            api = Api(server.base_url)
            # Clients resend whatever was not acknowledged, with the same txn_id.
            for txn in sorted(attempted - set(acked)):
                device = senders[int(txn.split("-")[0][1:])]
                sent = await api.send(device, group, txn, txn_id=txn)
                acked[txn] = sent["seq"]
            # Acknowledged ones resent again must come back as duplicates with the same seq.
            for txn in random.sample(sorted(acked), 20):
                device = senders[int(txn.split("-")[0][1:])]
                again = await api.send(device, group, txn, txn_id=txn)
                assert again["duplicate"] is True
                assert again["seq"] == acked[txn]

        messages = [e for e in await api.sync_all(bob) if e["type"] == "message"]
        txns = [e["txn_id"] for e in messages]
        assert len(txns) == len(set(txns)), "a message was stored twice"
        assert set(txns) == set(acked), "an acknowledged message was lost"
        seqs = [e["seq"] for e in messages]
        assert seqs == list(range(2, 2 + len(seqs))), "seq has a gap"
        assert {e["txn_id"]: e["seq"] for e in messages} == acked
        assert len(acked) > 100
    finally:
        await api.close()
        server.stop()
