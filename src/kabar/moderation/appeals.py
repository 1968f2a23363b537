"""Notices and appeals: what the affected account is told, and how it contests an action.

Every action on someone's content or account (except dismissing a report) sends
a notice. Its owner may appeal once per action within 30 days; a moderator
other than the one who acted decides (403 ``appeal_conflict`` otherwise). A
granted appeal reverses the action — restoring removed content, lifting a
restriction or suspension, and any escalation it caused — and the outcome goes
to the owner as an updated notice and to the transparency log.
"""

from __future__ import annotations

from kabar.accounts.models import Principal
from kabar.delivery.transaction import WriteTx
from kabar.errors import Conflict, ErrorCode, Forbidden, InvalidRequest, NotFound
from kabar.ids import new_id
from kabar.moderation.context import (
    APPEAL_WINDOW_DAYS,
    DAY_MS,
    TEXT_MAX,
    Deps,
    action_record,
    appeal_view,
    audit,
    names_for,
    notice_view,
    require_moderator,
)
from kabar.moderation.enforcement import Enforcement, send_notice
from kabar.moderation.models import Appeal, AppealStatus, Notice
from kabar.public.text import checked_text
from kabar.store import moderation as store

NOTICES_MAX = 200
APPEALS_MAX = 200


def notice_not_found() -> NotFound:
    return NotFound("no such notice", code=ErrorCode.NOTICE_NOT_FOUND)


def appeal_not_found() -> NotFound:
    return NotFound("no such appeal", code=ErrorCode.APPEAL_NOT_FOUND)


class AppealDesk:
    def __init__(self, deps: Deps, enforcement: Enforcement) -> None:
        self._deps = deps
        self._enforcement = enforcement

    async def notices(self, principal: Principal) -> list[Notice]:
        """The account's notices, newest first."""
        async with self._deps.database.read() as conn:
            rows = await store.notices_of(conn, principal.account_id, NOTICES_MAX)
        return [notice_view(row, self._deps.policy) for row in rows]

    async def appeal(self, principal: Principal, notice_id: str, statement: str) -> Appeal:
        text = checked_text(statement, field="statement", min_chars=1, max_chars=TEXT_MAX)
        appeal_id = new_id("z")

        async def job(tx: WriteTx) -> Appeal:
            row = await store.notice(tx.conn, notice_id)
            if row is None or row.notice_account != principal.account_id:
                raise notice_not_found()
            if row.appeal_status is not None:
                raise Conflict(
                    "this action has already been appealed", code=ErrorCode.ALREADY_APPEALED
                )
            if tx.now_ms > row.notice_created_at + APPEAL_WINDOW_DAYS * DAY_MS:
                raise Forbidden(
                    f"appeals are possible for {APPEAL_WINDOW_DAYS} days after the notice",
                    code=ErrorCode.APPEAL_WINDOW_CLOSED,
                )
            if row.reversed_at is not None:
                raise Conflict(
                    "this action has already been reversed", code=ErrorCode.ALREADY_APPEALED
                )
            await store.insert_appeal(
                tx.conn,
                id=appeal_id,
                action_id=row.id,
                notice_id=notice_id,
                account_id=principal.account_id,
                statement=text,
                status=AppealStatus.PENDING.value,
                created_at=tx.now_ms,
            )
            stored = await store.appeal(tx.conn, appeal_id)
            names = {principal.account_id: principal.username}
            return appeal_view(stored, names)

        result: Appeal = await self._deps.writer.run(job)
        return result

    async def appeals(self, moderator: Principal, status: str | None = "pending") -> list[Appeal]:
        require_moderator(moderator)
        if status in (None, "all"):
            wanted = None
        elif status in ("pending", "granted", "denied"):
            wanted = status
        else:
            raise InvalidRequest("status is pending, granted, denied or all")
        async with self._deps.database.read() as conn:
            rows = await store.appeals(conn, wanted, APPEALS_MAX)
            actions = {}
            for row in rows:
                action = await store.action(conn, row.action_id)
                if action is not None:
                    actions[row.action_id] = action
            names = await names_for(
                conn,
                [*rows, *actions.values()],
                "account_id",
                "decided_by",
                "moderator",
            )
        return [
            appeal_view(
                row,
                names,
                action_record(actions[row.action_id], names) if row.action_id in actions else None,
            )
            for row in rows
        ]

    async def decide(
        self, moderator: Principal, appeal_id: str, grant: bool, rationale: str
    ) -> Appeal:
        """Grant (reverse the action) or deny an appeal; never by the moderator who acted."""
        require_moderator(moderator)
        text = checked_text(rationale, field="rationale", min_chars=1, max_chars=TEXT_MAX)

        async def job(tx: WriteTx) -> Appeal:
            row = await store.appeal(tx.conn, appeal_id)
            if row is None:
                raise appeal_not_found()
            if row.status != AppealStatus.PENDING.value:
                raise Conflict("this appeal is already decided", code=ErrorCode.APPEAL_DECIDED)
            action = await store.action(tx.conn, row.action_id)
            assert action is not None
            if moderator.account_id in await _deciders(tx, action):
                raise Forbidden(
                    "a different moderator must decide an appeal against your own action",
                    code=ErrorCode.APPEAL_CONFLICT,
                )
            if grant:
                await self._enforcement.reverse(tx, action.id)
            status = AppealStatus.GRANTED if grant else AppealStatus.DENIED
            seq = await self._enforcement.hook.appeal_logged(tx, action, grant, text)
            await store.update_appeal(
                tx.conn,
                appeal_id,
                status=status.value,
                decided_by=moderator.account_id,
                rationale=text,
                decided_at=tx.now_ms,
                log_seq=seq,
            )
            await audit(tx, moderator, f"appeal.{status.value}", appeal_id, action_id=action.id)
            # The owner sees the outcome live: the same notice, now with its appeal decided.
            await send_notice(
                tx, self._deps, action.id, row.account_id, "", None, notice_id=row.notice_id
            )
            stored = await store.appeal(tx.conn, appeal_id)
            assert stored is not None
            names = await store.usernames(
                tx.conn, {stored.account_id, stored.decided_by, action.moderator, action.account_id}
            )
            fresh = await store.action(tx.conn, action.id)
            return appeal_view(stored, names, action_record(fresh, names))

        result: Appeal = await self._deps.writer.run(job)
        return result


async def _deciders(tx: WriteTx, action: object) -> set[str]:
    """Moderators who took the action, or the action its escalation came from."""
    who: set[str] = set()
    current = action
    while current is not None:
        moderator = getattr(current, "moderator", None)
        if moderator:
            who.add(moderator)
        parent = getattr(current, "escalated_from", None)
        current = await store.action(tx.conn, parent) if parent else None
    return who
