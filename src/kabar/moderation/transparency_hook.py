"""Where moderation hands its decisions to the transparency log.

Enforcement and appeals call the hook inside their own write transaction, so
an action and its log entry commit together. :class:`NoLog` is used until the
ledger is wired (kabar.moderation.logging builds the real entries).
"""

from __future__ import annotations

from typing import Any, Protocol

from kabar.delivery.transaction import WriteTx


class TransparencyHook(Protocol):
    async def action_logged(self, tx: WriteTx, action: dict[str, Any]) -> int | None:
        """Append an ``action`` entry for the stored action row ``action``; its leaf index."""

    async def appeal_logged(
        self, tx: WriteTx, action: Any, granted: bool, rationale: str
    ) -> int | None:
        """Append an ``appeal_outcome`` entry for the appealed action row; its leaf index."""


class NoLog:
    async def action_logged(self, tx: WriteTx, action: dict[str, Any]) -> int | None:
        return None

    async def appeal_logged(
        self, tx: WriteTx, action: Any, granted: bool, rationale: str
    ) -> int | None:
        return None
