"""CPU-heavy pure work (Markdown rendering, image processing) off the event loop.

Such work runs in worker threads, at most ``concurrency`` at a time; callers
beyond that wait their turn instead of filling the default thread pool, which
the database drivers also need. markdown-it-py and Pillow are pure
functions of their input, so a thread is as good as a process here, minus the
pickling; Pillow releases the GIL while it decodes and encodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Workers:
    def __init__(self, concurrency: int = 2) -> None:
        self._slots = asyncio.Semaphore(concurrency)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._slots:
            return await asyncio.to_thread(fn, *args, **kwargs)
