"""The in-process broker for a single node: publish calls subscribers directly, in order."""

from __future__ import annotations

import logging
from collections import defaultdict

from kabar.broker.base import Handler

log = logging.getLogger(__name__)


class MemoryBroker:
    def __init__(self) -> None:
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._handlers.clear()

    def publish(self, channel: str, payload: bytes) -> None:
        # Inline delivery keeps order and costs no extra loop iteration; a failing
        # subscriber must not break the publisher (the writer), so it is isolated.
        for handler in self._handlers.get(channel, ()):
            try:
                handler(payload)
            except Exception:
                log.exception("broker subscriber failed on %s", channel)

    def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers[channel].append(handler)

    @property
    def healthy(self) -> bool:
        return True

    @property
    def distributed(self) -> bool:
        return False
