"""Moderation decisions as transparency-log entries (the real :class:`TransparencyHook`).

Public things are referenced by their public URL (articles, public accounts) or
kabar id (comments); accounts and chat messages only by ``hashed_ref`` with the
server's secret salt, so the log never names a person. The entry's summary is
the moderator's rationale (which docs/moderation.md tells moderators to keep
free of personal data), cut to the log's limit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kabar.delivery.transaction import WriteTx
from kabar.moderation import ledger
from kabar.moderation.transparency.entries import LogEntry, Target, hashed_ref
from kabar.public.models import account_url
from kabar.store.schema import articles, public_accounts
from kabar.store.threaded import Executor

SUMMARY_MAX = 1000


class Logbook:
    def __init__(self, public_url: str, salt: bytes) -> None:
        self._public_url = public_url
        self._salt = salt

    async def target(
        self, conn: Executor, target_type: str, target_id: str, owner: str | None = None
    ) -> Target:
        if target_type == "media":
            # An upload has no public page of its own: the log names its uploader, hashed.
            return Target("account", hashed_ref(owner or target_id, self._salt))
        if target_type in ("account", "message"):
            return Target(target_type, hashed_ref(target_id, self._salt))  # type: ignore[arg-type]
        if target_type == "article":
            query = (
                select(articles.c.slug, public_accounts.c.handle)
                .join(public_accounts, public_accounts.c.id == articles.c.public_account_id)
                .where(articles.c.id == target_id)
            )
            row = (await conn.execute(query)).first()
            if row is not None:
                url = f"{account_url(self._public_url, row.handle)}/{row.slug}"
                return Target("article", url)
        if target_type == "public_account":
            query = select(public_accounts.c.handle).where(public_accounts.c.id == target_id)
            handle = (await conn.execute(query)).scalar_one_or_none()
            if handle is not None:
                return Target("public_account", account_url(self._public_url, handle))
        return Target(target_type, target_id)  # type: ignore[arg-type]

    async def action_logged(self, tx: WriteTx, action: dict[str, Any]) -> int | None:
        target = await self.target(
            tx.conn, action["target_type"], action["target_id"], action["account_id"]
        )

        def make(seq: int) -> LogEntry:
            return LogEntry(
                kind="action",
                seq=seq,
                time_ms=tx.now_ms,
                policy_item=action["policy_item"],
                source=action["source"],
                automated=bool(action["automated"]),
                action=action["action"],
                target=target,
                summary=_summary(action["rationale"]),
            )

        entry = await ledger.append_entry(tx.conn, make, origin=action["id"])
        return entry.seq

    async def appeal_logged(
        self, tx: WriteTx, action: Any, granted: bool, rationale: str
    ) -> int | None:
        if action.log_seq is None:
            return None  # an action from before the log existed: nothing to refer to
        target = await self.target(tx.conn, action.target_type, action.target_id, action.account_id)

        def make(seq: int) -> LogEntry:
            return LogEntry(
                kind="appeal_outcome",
                seq=seq,
                time_ms=tx.now_ms,
                policy_item=action.policy_item,
                source="moderator",
                automated=False,
                action="appeal_granted" if granted else "appeal_denied",
                target=target,
                summary=_summary(rationale),
                appeal_of=int(action.log_seq),
            )

        entry = await ledger.append_entry(tx.conn, make, origin=action.id)
        return entry.seq


def _summary(text: str) -> str:
    text = text.replace("\r", "")
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"
