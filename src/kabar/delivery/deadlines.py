"""Commit deadlines: a write job whose COMMIT has not come in time is answered with 503.

A caller waits for its job's commit at most ``stream.commit_timeout_seconds`` (a stalled
disk, a lock held by another process); then it gets "the write did not commit in time;
retry with the same txn_id". The job may still commit later, unanswered, and the retry finds
it (sends are idempotent). Every job has the same timeout, so deadlines fall in the order
jobs are submitted, and one timer, armed for the oldest waiting job's deadline, serves
them all: a timer per job, made and cancelled around every write, cost ~2.5 µs with uvloop,
about 1 % of a concurrent send's server CPU (docs/performance.md).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from kabar.errors import Unavailable

# uvloop's timers tick in milliseconds: a deadline this close counts as reached, rather
# than arming a timer that would fire at once.
_TICK_S = 0.001


def _time_out(future: asyncio.Future[Any]) -> None:
    future.set_exception(
        Unavailable("the write did not commit in time; retry with the same txn_id")
    )


class CommitDeadlines:
    """Fails each watched future that is still pending ``timeout_s`` after it was watched."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        # (deadline, future), oldest first; answered futures leave from the front.
        self._waiting: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, future: asyncio.Future[Any]) -> None:
        """Fail ``future`` with :class:`Unavailable` if it is still pending after the timeout."""
        waiting = self._waiting
        while waiting and waiting[0][1].done():  # answered since: nothing left to watch
            waiting.popleft()
        loop = future.get_loop()
        waiting.append((loop.time() + self._timeout_s, future))
        if self._timer is None:
            self._timer = loop.call_later(self._timeout_s, self._expire, loop)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        waiting = self._waiting
        while waiting:
            deadline, future = waiting[0]
            if not future.done():
                if deadline > now + _TICK_S:
                    self._timer = loop.call_later(deadline - now, self._expire, loop)
                    return
                _time_out(future)
            waiting.popleft()

    def close(self) -> None:
        """Stop watching (the writer stops): nothing pending is failed by this."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting.clear()
