"""Building transparency log entries and appending them through a server's writer."""

from __future__ import annotations

from collections.abc import Callable

from kabar.accounts.models import Role
from kabar.delivery.transaction import WriteTx
from kabar.moderation import ledger
from kabar.moderation.transparency.entries import LogEntry, Target
from kabar.services import Services
from support.api import Api, User


def action_entry(
    *, policy_item: str = "spam", action: str = "remove_content", source: str = "user_report"
) -> Callable[[WriteTx], Callable[[int], LogEntry]]:
    """A maker of a plain moderation-action entry logged at the transaction's time."""

    def for_tx(tx: WriteTx) -> Callable[[int], LogEntry]:
        def make(seq: int) -> LogEntry:
            return LogEntry(
                kind="action",
                seq=seq,
                time_ms=tx.now_ms,
                policy_item=policy_item,
                source=source,  # type: ignore[arg-type]
                automated=source == "hash_match",
                action=action,
                target=Target("article", f"https://kabar.example/@shop/deal-{seq}"),
                summary=f"Entry {seq}: repeated advertising.",
            )

        return make

    return for_tx


async def append_actions(services: Services, count: int, **kwargs: str) -> list[LogEntry]:
    """Append ``count`` action entries in one write job; return them."""
    maker = action_entry(**kwargs)

    async def job(tx: WriteTx) -> list[LogEntry]:
        return [await ledger.append_entry(tx.conn, maker(tx)) for _ in range(count)]

    entries: list[LogEntry] = await services.writer.run(job)
    return entries


async def make_admin(api: Api, services: Services) -> User:
    """A newly registered account with the admin role."""
    user = await api.register()
    await services.accounts.set_role(user.account_id, Role.ADMIN)
    return user
