"""ModerationService: the one entry point the HTTP API, the console and the CLI call.

It composes the case desk (reports, queue, cases, assignment, notes),
enforcement (actions, strikes, escalation), the appeal desk (notices, appeals)
and the audit log, and adds what spans them: the policy, roles, franked
message reports joining cases, hash-list matches, and lifting timed suspensions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from kabar.accounts.models import Principal, Role, Status
from kabar.delivery.transaction import WriteTx
from kabar.errors import ErrorCode, InvalidRequest, NotFound
from kabar.ids import decode_cursor, encode_cursor
from kabar.moderation import targets
from kabar.moderation.actions import Action
from kabar.moderation.appeals import AppealDesk
from kabar.moderation.cases import CaseDesk, open_or_join
from kabar.moderation.context import Deps, audit, names_for, require_admin
from kabar.moderation.enforcement import Decision, Enforcement, set_account_status
from kabar.moderation.models import (
    ActionRecord,
    Appeal,
    AuditEntry,
    CaseDetail,
    CaseSummary,
    NoteView,
    Notice,
    Page,
    Source,
)
from kabar.moderation.policy import PolicyItem
from kabar.moderation.transparency_hook import NoLog, TransparencyHook
from kabar.store import accounts as account_store
from kabar.store import moderation as store

log = logging.getLogger(__name__)
AUDIT_PAGE_MAX = 200
SWEEP_SECONDS = 30.0


class ModerationService:
    def __init__(self, deps: Deps, hook: TransparencyHook | None = None) -> None:
        self.deps = deps
        self.cases = CaseDesk(deps)
        self.enforcement = Enforcement(deps, hook or NoLog())
        self.appeals_desk = AppealDesk(deps, self.enforcement)
        self._sweeper: asyncio.Task[None] | None = None

    # -- the policy ---------------------------------------------------------------------------

    def policy_items(self) -> list[PolicyItem]:
        return list(self.deps.policy.items)

    # -- reports and cases --------------------------------------------------------------------

    async def report(
        self,
        principal: Principal,
        target: dict[str, str],
        policy_item: str,
        note: str | None = None,
    ) -> str:
        """Report public content or an account (``target``: ``{"type", "id"}``); the report id."""
        return await self.cases.report(
            principal, target.get("type", ""), target.get("id", ""), policy_item, note
        )

    async def open_case(
        self,
        moderator: Principal,
        target: dict[str, str],
        policy_item: str,
        note: str | None = None,
    ) -> tuple[CaseDetail, bool]:
        """Open (or join) the target's case as a moderator: the case, and whether it is new."""
        case_id, opened = await self.cases.open_case(
            moderator, target.get("type", ""), target.get("id", ""), policy_item, note
        )
        return await self.cases.case(moderator, case_id), opened

    async def queue(
        self,
        moderator: Principal,
        status: str = "open",
        assigned: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[CaseSummary]:
        return await self.cases.queue(moderator, status, assigned, cursor, limit)

    async def case(self, moderator: Principal, case_id: str) -> CaseDetail:
        return await self.cases.case(moderator, case_id)

    async def assign(self, moderator: Principal, case_id: str, assignee: str | None) -> None:
        await self.cases.assign(moderator, case_id, assignee)

    async def add_note(self, moderator: Principal, case_id: str, text: str) -> NoteView:
        return await self.cases.add_note(moderator, case_id, text)

    async def act(
        self,
        moderator: Principal,
        case_id: str,
        action: str,
        policy_item: str,
        rationale: str,
        duration_days: int | None = None,
        label: str | None = None,
    ) -> ActionRecord:
        return await self.enforcement.act(
            moderator, case_id, action, policy_item, rationale, duration_days, label
        )

    # -- notices and appeals ------------------------------------------------------------------

    async def notices(self, principal: Principal) -> list[Notice]:
        return await self.appeals_desk.notices(principal)

    async def appeal(self, principal: Principal, notice_id: str, statement: str) -> Appeal:
        return await self.appeals_desk.appeal(principal, notice_id, statement)

    async def appeals(self, moderator: Principal, status: str | None = "pending") -> list[Appeal]:
        return await self.appeals_desk.appeals(moderator, status)

    async def decide_appeal(
        self, moderator: Principal, appeal_id: str, grant: bool, rationale: str
    ) -> Appeal:
        return await self.appeals_desk.decide(moderator, appeal_id, grant, rationale)

    # -- admin --------------------------------------------------------------------------------

    async def audit(
        self, admin: Principal, cursor: str | None = None, limit: int = 50
    ) -> Page[AuditEntry]:
        """The audit log, newest first (admins)."""
        require_admin(admin)
        before = decode_cursor(cursor, int)
        limit = max(1, min(limit, AUDIT_PAGE_MAX))
        async with self.deps.database.read() as conn:
            rows = await store.audit(conn, before[0] if before else None, limit + 1)
            names = await names_for(conn, rows, "actor")
        more = len(rows) > limit
        rows = rows[:limit]
        entries = [
            AuditEntry(
                r.id,
                names.get(r.actor, ""),
                r.action,
                r.subject,
                json.loads(r.detail),
                r.created_at,
            )
            for r in rows
        ]
        return Page(entries, encode_cursor(rows[-1].id) if more and rows else None)

    async def set_role(self, admin: Principal, username: str, role: str) -> None:
        """Make an account a user, moderator or admin (admins); audited."""
        require_admin(admin)
        try:
            chosen = Role(role)
        except ValueError:
            raise InvalidRequest(
                "a role is user, moderator or admin", code=ErrorCode.INVALID_ROLE
            ) from None
        from kabar.delivery import control

        async def job(tx: WriteTx) -> None:
            row = await account_store.account_by_username(tx.conn, username.lstrip("@").casefold())
            if row is None:
                raise NotFound("no such account", code=ErrorCode.ACCOUNT_NOT_FOUND)
            await account_store.update_account(tx.conn, row.id, role=chosen.value)
            await audit(tx, admin, "account.role", row.username, role=chosen.value)
            tx.after_commit(
                lambda: self.deps.bus.publish(
                    control.ACCOUNT_CHANGED, account_id=row.id, role=chosen.value
                )
            )

        await self.deps.writer.run(job)

    # -- other ways into a case ---------------------------------------------------------------

    async def message_reported(
        self,
        tx: WriteTx,
        *,
        event_id: str,
        sender_account: str,
        message: str,
        conversation_id: str,
        reporter: str,
        policy_item: str | None,
        note: str | None,
    ) -> None:
        """A verified franked report (inside its write job) opens or joins the message's case."""
        item = policy_item if policy_item else _fallback_item(self.deps)
        target = targets.message_target(event_id, sender_account, message, conversation_id)
        await open_or_join(tx, self.deps, target, item, Source.USER_REPORT, reporter, note)

    async def detected(
        self, media_id: str, policy_item: str, note: dict[str, Any], *, auto_remove: bool
    ) -> str:
        """A hash-list match on an upload: open (or join) a case, or remove the upload at once
        when the list says so (an automated action, logged as such). Returns the case id."""
        deps = self.deps
        summary = f"Matched the hash list {note.get('list', '?')!r}."

        async def job(tx: WriteTx) -> str:
            target = await targets.media_target(tx.conn, media_id, note)
            case_id, _ = await open_or_join(
                tx, deps, target, policy_item, Source.HASH_MATCH, None, summary[:1000]
            )
            if not auto_remove:
                return case_id
            decision = Decision(Action.REMOVE_CONTENT, policy_item, summary, None, None)
            await self.enforcement.apply(
                tx,
                decision,
                case_id=case_id,
                target_type=target.type,
                target_id=target.id,
                owner=target.owner_account,
                source=Source.HASH_MATCH,
                moderator=None,
                snapshot_label=target.label,
                snapshot_url=target.url,
            )
            await store.update_case(
                tx.conn, case_id, status="closed", closed_at=tx.now_ms, updated_at=tx.now_ms
            )
            return case_id

        result: str = await deps.writer.run(job)
        return result

    # -- timed suspensions --------------------------------------------------------------------

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="kabar-moderation")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.lift_expired()
            except Exception:
                log.exception("lifting expired suspensions failed")

    async def lift_expired(self) -> int:
        """Reinstate accounts whose timed suspensions have all run out; how many."""

        async def job(tx: WriteTx) -> int:
            lifted = 0
            for row in await store.expired_suspensions(tx.conn, tx.now_ms):
                account = await account_store.account_by_id(tx.conn, row.account_id)
                if account is None or account.status != Status.SUSPENDED.value:
                    continue
                if await store.active(tx.conn, row.account_id, Action.SUSPEND.value, tx.now_ms):
                    continue
                await set_account_status(tx, self.deps, row.account_id, Status.ACTIVE)
                lifted += 1
            return lifted

        result: int = await self.deps.writer.run(job)
        return result


def _fallback_item(deps: Deps) -> str:
    ids = [item.id for item in deps.policy.items]
    return "other" if "other" in ids else ids[-1]
