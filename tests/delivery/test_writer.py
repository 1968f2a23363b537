"""The group-commit writer: a write that does not commit in time is answered 503, and a retry
with the same txn_id finds it once it has committed; another process holding SQLite's write
lock delays sends but stops nothing else."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from conftest import ServerFactory
from kabar.errors import Unavailable
from support.api import Api
from support.server import RunningServer


async def test_a_send_stuck_behind_a_slow_write_times_out_and_its_retry_finds_it(
    make_server: ServerFactory,
) -> None:
    # The account and group are made with the default timeout: on a loaded machine (CI runs
    # tests in parallel) even an ordinary write can take longer than the short one below.
    async with make_server() as server, Api(server.base_url) as api:
        alice = await api.register()
        group = await api.group(alice)
    async with (
        make_server(stream={"commit_timeout_seconds": 0.3}) as server,
        Api(server.base_url) as api,
    ):
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


@contextmanager
def _another_process_holds_the_write_lock(server: RunningServer) -> Iterator[None]:
    database = make_url(server.services.config.database.url).database
    assert database
    other = sqlite3.connect(database, isolation_level=None)  # as another process would
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("COMMIT")
        other.close()


async def test_while_another_process_holds_the_sqlite_write_lock_sends_wait_and_reads_go_on(
    sqlite_server: RunningServer,
) -> None:
    # The writer runs a batch's statements on the event loop's thread; it must never wait
    # for the lock there, or the whole server would stop until the other writer finished.
    async with Api(sqlite_server.base_url) as api:
        alice = await api.register()
        group = await api.group(alice)
        await api.sync_all(alice)
        with _another_process_holds_the_write_lock(sqlite_server):
            envelope = {"algorithm": "test.plain", "ciphertext": base64.b64encode(b"x").decode()}
            path = f"/v1/conversations/{group}/messages/txn-locked"
            send = asyncio.create_task(api.http.put(path, json=envelope, headers=alice.headers))
            await asyncio.sleep(0.3)
            # The server still answers while the send waits for the lock.
            assert (await api.http.get("/healthz")).status_code == 200
            assert (await api.sync(alice))["events"] == []
            assert not send.done()
        sent = await send
        assert sent.status_code == 200, sent.text
        events = (await api.sync(alice))["events"]
        assert [e["event_id"] for e in events] == [sent.json()["event_id"]]


async def test_while_another_process_holds_the_sqlite_write_lock_other_writes_wait_too(
    sqlite_server: RunningServer,
) -> None:
    # A write other than a send (here a to-device message) also runs its statements on the
    # event loop's thread, and must likewise never wait for the lock there.
    async with Api(sqlite_server.base_url) as api:
        alice = await api.register()
        bob = await api.register()
        await api.sync_all(bob)
        with _another_process_holds_the_write_lock(sqlite_server):
            body = {"txn_id": "td-locked", "type": "test.key", "messages": {bob.device_id: {}}}
            write = asyncio.create_task(
                api.http.post("/v1/to-device", json=body, headers=alice.headers)
            )
            await asyncio.sleep(0.3)
            assert (await api.http.get("/healthz")).status_code == 200
            assert (await api.sync(bob))["to_device"] == []
            assert not write.done()
        written = await write
        assert written.status_code == 200, written.text
        assert written.json()["sent"] == 1
        delivered = (await api.sync(bob))["to_device"]
        assert [m["sender_device"] for m in delivered] == [alice.device_id]


async def test_a_send_made_while_a_batch_runs_waits_for_it_and_leaves_it_whole(
    make_server: ServerFactory,
) -> None:
    # A send that finds the writer idle runs its batch at once, in its own task; one that
    # finds a batch running must queue behind it, not touch its open transaction.
    async with make_server() as server, Api(server.base_url) as api:
        alice = await api.register()
        group = await api.group(alice)
        await api.send(alice, group, "alone, before")
        release = asyncio.Event()

        async def slow(_tx: Any) -> str:
            await release.wait()
            return "whole"

        blocker = asyncio.create_task(server.services.writer.run(slow))
        await asyncio.sleep(0.05)
        queued = asyncio.create_task(api.send(alice, group, "queued"))
        await asyncio.sleep(0.2)
        assert not queued.done()
        release.set()
        assert await blocker == "whole"
        await queued
        await api.send(alice, group, "alone, after")
        history = await api.history(alice, group)
        texts = [
            base64.b64decode(e["content"]["ciphertext"]).decode()
            for e in history["events"]
            if e["type"] == "message"
        ]
        assert texts == ["alone, after", "queued", "alone, before"]  # newest first
        seqs = [e["seq"] for e in history["events"]]
        assert seqs == sorted(seqs, reverse=True)
        assert len(set(seqs)) == len(seqs)


async def _nothing(_tx: Any) -> None:
    pass


async def test_while_others_send_a_batch_waits_for_jobs_a_few_loop_turns_away(
    make_server: ServerFactory,
) -> None:
    # Jobs that reach the queue one, two and three turns of the event loop after the first
    # (requests already read, tasks already woken) share its batch once others are sending;
    # a lone job does not wait for company.
    async with make_server() as server:
        writer = server.services.writer
        # The server's own periodic writes (the scheduler's first pass, at start-up, and
        # the moderation sweeper) would land between the jobs below: stopped, and the
        # writer's queue drained behind them, nothing else writes here.
        await server.services.scheduler.stop()
        await server.services.moderation.stop()
        await writer.run(_nothing)

        async def batch_of(tx: Any) -> Any:
            return tx  # the batch's transaction: the same object for every job in it

        async def after_turns(turns: int) -> Any:
            for _ in range(turns):
                await asyncio.sleep(0)
            return await writer.run(batch_of)

        first, second = await asyncio.gather(writer.run(batch_of), writer.run(batch_of))
        assert first is second  # submitted in one turn: one batch, so others are sending
        staggered = await asyncio.gather(*(after_turns(turns) for turns in range(4)))
        assert all(tx is staggered[0] for tx in staggered)
        lone = await writer.run(batch_of)
        assert lone is not staggered[0]


async def test_a_writes_caller_is_answered_before_the_hub_fans_the_batch_out(
    make_server: ServerFactory,
) -> None:
    # With many listeners online the fan-out is long; a caller whose answer queued behind
    # it waited for all of it. The hub gets the batch one loop turn after the callers'
    # futures resolve, by which time a caller with nothing more to await has returned —
    # while what the write changed (its after-commit callbacks) holds before any answer.
    async with make_server() as server:
        writer = server.services.writer
        seen: list[tuple[bool, bool]] = []
        callback_ran: list[bool] = []

        async def job(tx: Any) -> str:
            await tx.append_event("test.event", {"n": 1}, target_account="a_nobody")
            tx.after_commit(lambda: callback_ran.append(True))
            return "done"

        async def caller() -> str:
            answer = await writer.run(job)
            assert callback_ran == [True]  # already, when the caller wakes
            return answer

        task = asyncio.create_task(caller())
        writer.on_commit(lambda batch: seen.append((task.done(), bool(batch.items))))
        assert await task == "done"
        await asyncio.sleep(0.05)
        assert (True, True) in seen
        assert (False, True) not in seen


async def test_an_events_frame_is_rendered_once_when_a_listener_takes_it_and_never_unread(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A committed event's client frame waits until something reads it: sent while nobody
    # listens, it is never rendered; taken by a waiting long-poll, it is rendered once,
    # after the sender's answer, and reads as the event the sender was told about.
    from kabar.delivery import events as ev

    rendered: list[str] = []
    real_event_frame = ev.event_frame

    def counting_event_frame(**fields: Any) -> bytes:
        rendered.append(fields["event_id"])
        return real_event_frame(**fields)

    async with make_server() as server, Api(server.base_url) as api:
        alice, bob = await api.register(), await api.register()
        direct = await api.direct(alice, bob)
        await api.sync_all(bob)
        monkeypatch.setattr(ev, "event_frame", counting_event_frame)

        unheard = await api.send(alice, direct, "nobody is listening")
        await asyncio.sleep(0.05)  # the batch has long been handed to the hub
        assert rendered == []

        waiting = asyncio.create_task(api.sync(bob, timeout=10_000))
        await asyncio.sleep(0.1)
        # bob's long-poll catches up on the first message from the store (rendered there).
        first = await asyncio.wait_for(waiting, 8)
        assert [e["event_id"] for e in first["events"]] == [unheard["event_id"]]
        rendered.clear()

        waiting = asyncio.create_task(api.sync(bob, timeout=10_000))
        await asyncio.sleep(0.1)
        heard = await api.send(alice, direct, "bob is listening")
        body = await asyncio.wait_for(waiting, 8)
        assert [(e["event_id"], e["seq"]) for e in body["events"]] == [
            (heard["event_id"], heard["seq"])
        ]
        assert rendered == [heard["event_id"]]
