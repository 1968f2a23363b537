"""Commit deadlines: each waiting write fails with 503 once its own timeout has passed, never
before, and one answered in time is left alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kabar.delivery.deadlines import CommitDeadlines
from kabar.errors import Unavailable

TIMEOUT_S = 0.3


def _failed_at(future: asyncio.Future[Any], record: dict[int, float]) -> None:
    loop = future.get_loop()
    future.add_done_callback(lambda f: record.setdefault(id(f), loop.time()))


async def test_each_waiting_write_fails_at_its_own_deadline_and_not_before() -> None:
    loop = asyncio.get_running_loop()
    deadlines = CommitDeadlines(TIMEOUT_S)
    done_at: dict[int, float] = {}
    watched: list[tuple[asyncio.Future[Any], float]] = []
    for _ in range(3):  # watched a third of the timeout apart
        future: asyncio.Future[Any] = loop.create_future()
        _failed_at(future, done_at)
        watched.append((future, loop.time()))
        deadlines.watch(future)
        await asyncio.sleep(TIMEOUT_S / 3)
    await asyncio.wait([f for f, _ in watched], timeout=5)
    for future, since in watched:
        with pytest.raises(Unavailable, match="did not commit in time"):
            future.result()
        assert done_at[id(future)] - since >= TIMEOUT_S - 0.002  # uvloop's millisecond ticks
    deadlines.close()


async def test_a_write_answered_in_time_is_left_alone_while_a_later_one_still_times_out() -> None:
    loop = asyncio.get_running_loop()
    deadlines = CommitDeadlines(TIMEOUT_S)
    answered: asyncio.Future[Any] = loop.create_future()
    late: asyncio.Future[Any] = loop.create_future()
    deadlines.watch(answered)
    deadlines.watch(late)
    answered.set_result("committed")
    await asyncio.wait([late], timeout=5)
    assert answered.result() == "committed"
    assert isinstance(late.exception(), Unavailable)
    # Watching again after everything was answered or failed arms a fresh deadline.
    again: asyncio.Future[Any] = loop.create_future()
    deadlines.watch(again)
    await asyncio.wait([again], timeout=5)
    assert isinstance(again.exception(), Unavailable)
    deadlines.close()


async def test_a_cancelled_waiter_and_a_closed_watch_fail_nothing() -> None:
    loop = asyncio.get_running_loop()
    deadlines = CommitDeadlines(TIMEOUT_S)
    cancelled: asyncio.Future[Any] = loop.create_future()
    deadlines.watch(cancelled)
    cancelled.cancel()  # its caller went away: nothing to answer
    await asyncio.sleep(TIMEOUT_S * 1.5)
    assert cancelled.cancelled()
    pending: asyncio.Future[Any] = loop.create_future()
    deadlines.watch(pending)
    deadlines.close()  # the writer stopped
    await asyncio.sleep(TIMEOUT_S * 1.5)
    assert not pending.done()
