"""Exponential backoff with full jitter, for reconnecting and retrying.

Delay ``n`` is uniform in ``[0, min(cap, base · 2ⁿ)]`` ("full jitter", AWS
architecture blog): spreading retries over the whole window keeps a thousand
clients that lost the same server from all coming back in the same instant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    base: float = 0.25
    cap: float = 30.0
    attempts: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the window up to ``cap``."""
        window = min(self.cap, self.base * (2 ** min(self.attempts, 30)))
        self.attempts += 1
        return self.rng.uniform(0, window)

    def reset(self) -> None:
        """Call after a success: the next failure starts from the smallest window again."""
        self.attempts = 0
