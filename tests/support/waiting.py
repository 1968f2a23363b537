"""Waiting for something another task does, with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(predicate: Callable[[], object], seconds: float = 5.0, step: float = 0.02) -> None:
    """Return as soon as ``predicate()`` is true; fail after ``seconds``."""
    for _ in range(max(1, int(seconds / step))):
        if predicate():
            return
        await asyncio.sleep(step)
    if not predicate():
        raise AssertionError(f"still false after {seconds}s")
