"""Subscribing to public accounts, with live notifications switched on or off.

A subscription puts the account's articles in the subscriber's feed. With
notifications on, the subscriber also *follows the account's feed channel*
(kabar.delivery, ``feed_periods``): its devices receive ``article.published``
live and by sync. Switching on emits ``feed.followed`` to the subscriber and
opens a follow period at that event's position; switching off (or
unsubscribing) emits ``feed.unfollowed`` and closes it — in the same writer
job as the subscription row, so the two never disagree. Subscriber counts
move in that job too.
"""

from __future__ import annotations

from dataclasses import dataclass

from kabar.accounts.models import Principal
from kabar.delivery import events as ev
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.public.accounts import account_row
from kabar.store import feeds
from kabar.store import public as public_store
from kabar.store import subscriptions as store
from kabar.store.database import Database
from kabar.store.rows import Record


@dataclass(frozen=True, slots=True)
class Subscription:
    handle: str
    name: str
    subscribed: bool
    notifications: bool
    since: int | None


class SubscriptionService:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._db = database
        self._writer = writer

    async def subscribe(
        self, principal: Principal, handle: str, notifications: bool = True
    ) -> Subscription:
        """Subscribe, or change the notification setting of an existing subscription."""

        async def job(tx: WriteTx) -> None:
            account = await account_row(tx.conn, handle)
            existing = await store.subscription(tx.conn, principal.account_id, account.id)
            if existing is None:
                await store.insert_subscription(
                    tx.conn,
                    account_id=principal.account_id,
                    public_account_id=account.id,
                    notifications=notifications,
                    created_at=tx.now_ms,
                )
                await public_store.adjust_counts(tx.conn, account.id, subscribers=1)
                if notifications:
                    await _follow(tx, principal.account_id, account)
            elif bool(existing.notifications) != notifications:
                await store.set_notifications(
                    tx.conn, principal.account_id, account.id, notifications
                )
                if notifications:
                    await _follow(tx, principal.account_id, account)
                else:
                    await _unfollow(tx, principal.account_id, account)

        await self._writer.run(job)
        return await self.get(principal, handle)

    async def unsubscribe(self, principal: Principal, handle: str) -> None:
        """Stop subscribing (nothing happens if not subscribed)."""

        async def job(tx: WriteTx) -> None:
            account = await account_row(tx.conn, handle)
            existing = await store.subscription(tx.conn, principal.account_id, account.id)
            if existing is None:
                return
            await store.delete_subscription(tx.conn, principal.account_id, account.id)
            await public_store.adjust_counts(tx.conn, account.id, subscribers=-1)
            if existing.notifications:
                await _unfollow(tx, principal.account_id, account)

        await self._writer.run(job)

    async def get(self, principal: Principal, handle: str) -> Subscription:
        async with self._db.read() as conn:
            account = await account_row(conn, handle)
            row = await store.subscription(conn, principal.account_id, account.id)
        if row is None:
            return Subscription(account.handle, account.name, False, False, None)
        return Subscription(
            account.handle, account.name, True, bool(row.notifications), row.created_at
        )

    async def mine(self, principal: Principal) -> list[Subscription]:
        async with self._db.read() as conn:
            rows = await store.subscriptions_of(conn, principal.account_id)
        return [
            Subscription(r.handle, r.name, True, bool(r.notifications), r.created_at) for r in rows
        ]


async def _follow(tx: WriteTx, account_id: str, account: Record) -> None:
    appended = await tx.append_event(
        ev.FEED_FOLLOWED,
        {"feed_id": account.id, "handle": account.handle},
        target_account=account_id,
        follows=(account.id,),
    )
    await feeds.start_following(tx.conn, account.id, account_id, appended.pos)


async def _unfollow(tx: WriteTx, account_id: str, account: Record) -> None:
    appended = await tx.append_event(
        ev.FEED_UNFOLLOWED,
        {"feed_id": account.id, "handle": account.handle},
        target_account=account_id,
        unfollows=(account.id,),
    )
    await feeds.stop_following(tx.conn, account.id, account_id, appended.pos)
