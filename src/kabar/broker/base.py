"""The broker interface: ordered, best-effort publish/subscribe of byte payloads.

A broker may delay or lose a message (Redis restarts, a node's link drops);
it must never reorder the messages one publisher sends on one channel. The hub
detects what was lost by the gaps in stream positions and re-reads the store,
so the broker is a latency optimisation, not a durability mechanism.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Handler = Callable[[bytes], None]


class Broker(Protocol):
    async def start(self) -> None:
        """Connect; after this, published messages reach subscribers."""

    async def close(self) -> None: ...

    def publish(self, channel: str, payload: bytes) -> None:
        """Queue ``payload`` for every subscriber of ``channel`` (never blocks)."""

    def subscribe(self, channel: str, handler: Handler) -> None:
        """Call ``handler`` (on the event loop) with every payload published on ``channel``."""

    @property
    def healthy(self) -> bool: ...

    @property
    def distributed(self) -> bool:
        """False for the in-process broker: there is no other node to tell."""


def open_broker(url: str, key_prefix: str) -> Broker:
    if url.startswith("memory://"):
        from kabar.broker.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from kabar.broker.redis import RedisBroker

        return RedisBroker(url, key_prefix)
    raise ValueError(f"broker url {url!r} must be memory:// or redis://")
