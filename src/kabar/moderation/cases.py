"""Reports and cases: every report opens or joins the one open case of its target.

A moderator may also open a case on their own initiative (source ``moderator``):
it is recorded as the moderator's own report, so the case reads the same way.

A case keeps a snapshot of the target as first reported, the most severe policy
item reported so far (which orders the queue: severity, then age), its reports,
an assignee and internal notes. Reporters are recorded for moderators only;
nothing the reported party can see names them.
"""

from __future__ import annotations

import json
from typing import Any

from kabar.accounts.models import Principal
from kabar.delivery.transaction import WriteTx
from kabar.errors import ErrorCode, InvalidRequest, NotFound
from kabar.ids import decode_cursor, encode_cursor, new_id
from kabar.moderation import targets
from kabar.moderation.context import (
    TEXT_MAX,
    Deps,
    action_record,
    appeal_view,
    audit,
    case_summary,
    names_for,
    require_moderator,
)
from kabar.moderation.models import (
    CaseDetail,
    CaseSummary,
    NoteView,
    Page,
    ReportView,
    ResolvedTarget,
    Source,
)
from kabar.public.text import checked_text
from kabar.store import accounts as account_store
from kabar.store import moderation as store
from kabar.store.threaded import Executor

QUEUE_PAGE_MAX = 100
NOTE_MAX = 1000


def case_not_found() -> NotFound:
    return NotFound("no such case", code=ErrorCode.CASE_NOT_FOUND)


async def open_or_join(
    tx: WriteTx,
    deps: Deps,
    target: ResolvedTarget,
    policy_item: str,
    source: Source,
    reporter: str | None,
    note: str | None,
) -> tuple[str, str]:
    """Add a report to the target's open case, opening one if needed: ``(case, report)``."""
    item = deps.policy.item(policy_item)
    existing = await store.open_case(tx.conn, target.type.value, target.id)
    if existing is None:
        case_id = new_id("k")
        snapshot = {"label": target.label, "url": target.url, "content": target.snapshot}
        await store.insert_case(
            tx.conn,
            id=case_id,
            target_type=target.type.value,
            target_id=target.id,
            owner_account=target.owner_account,
            snapshot=json.dumps(snapshot, ensure_ascii=False),
            policy_item=item.id,
            severity=item.severity,
            source=source.value,
            status="open",
            report_count=1,
            created_at=tx.now_ms,
            updated_at=tx.now_ms,
        )
    else:
        case_id = existing.id
        changes: dict[str, Any] = {
            "report_count": existing.report_count + 1,
            "updated_at": tx.now_ms,
        }
        if item.severity > existing.severity:
            changes.update(policy_item=item.id, severity=item.severity)
        await store.update_case(tx.conn, case_id, **changes)
    report_id = new_id("w")
    await store.insert_report(
        tx.conn,
        id=report_id,
        case_id=case_id,
        reporter_account=reporter,
        source=source.value,
        policy_item=item.id,
        note=note,
        created_at=tx.now_ms,
    )
    return case_id, report_id


class CaseDesk:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def report(
        self,
        principal: Principal,
        target_type: str,
        target_id: str,
        policy_item: str,
        note: str | None = None,
    ) -> str:
        """Record a report on public content or an account; returns the report id."""
        deps = self._deps
        await deps.limiter.hit(
            "moderation_report", principal.account_id, deps.config.rate_limits.report_per_account
        )
        target = targets.parse_target(target_type, target_id)
        deps.policy.item(policy_item)
        text = checked_text(note, field="note", max_chars=NOTE_MAX) if note else None

        async def job(tx: WriteTx) -> str:
            resolved = await targets.resolve(tx.conn, target, deps.public_url, visible_only=True)
            _, report_id = await open_or_join(
                tx,
                deps,
                resolved,
                policy_item,
                Source.USER_REPORT,
                principal.account_id,
                text or None,
            )
            return report_id

        result: str = await deps.writer.run(job)
        return result

    async def open_case(
        self,
        moderator: Principal,
        target_type: str,
        target_id: str,
        policy_item: str,
        note: str | None = None,
    ) -> tuple[str, bool]:
        """A moderator opens a case on their own initiative (source ``moderator``).

        Joins the target's open case if there is one (adding the moderator's report to
        it, its source unchanged). Returns ``(case id, whether it was opened now)``.
        """
        require_moderator(moderator)
        deps = self._deps
        target = targets.parse_target(target_type, target_id)
        deps.policy.item(policy_item)
        text = checked_text(note, field="note", max_chars=NOTE_MAX) if note else None

        async def job(tx: WriteTx) -> tuple[str, bool]:
            resolved = await targets.resolve(tx.conn, target, deps.public_url)
            existing = await store.open_case(tx.conn, resolved.type.value, resolved.id)
            case_id, _ = await open_or_join(
                tx,
                deps,
                resolved,
                policy_item,
                Source.MODERATOR,
                moderator.account_id,
                text or None,
            )
            opened = existing is None
            await audit(
                tx,
                moderator,
                "case.open" if opened else "case.join",
                case_id,
                policy_item=policy_item,
            )
            return case_id, opened

        result: tuple[str, bool] = await deps.writer.run(job)
        return result

    async def queue(
        self,
        moderator: Principal,
        status: str = "open",
        assigned: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[CaseSummary]:
        require_moderator(moderator)
        if status not in ("open", "closed", "all"):
            raise InvalidRequest("status is open, closed or all")
        after = decode_cursor(cursor, int, int, str)
        limit = max(1, min(limit, QUEUE_PAGE_MAX))
        async with self._deps.database.read() as conn:
            assignee = await self._assignee_id(conn, moderator, assigned)
            rows = await store.queue(
                conn,
                None if status == "all" else status,
                assignee,
                (after[0], after[1], after[2]) if after else None,
                limit + 1,
            )
            names = await names_for(conn, rows, "assignee")
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows else None
        next_cursor = (
            encode_cursor(last.severity, last.created_at, last.id) if more and last else None
        )
        return Page([case_summary(r, names) for r in rows], next_cursor)

    async def _assignee_id(
        self, conn: Executor, moderator: Principal, assigned: str | None
    ) -> str | None:
        if not assigned:
            return None
        if assigned in ("me", "@me"):
            return moderator.account_id
        row = await account_store.account_by_username(conn, assigned.lstrip("@").casefold())
        return row.id if row is not None else "-"

    async def case(self, moderator: Principal, case_id: str) -> CaseDetail:
        require_moderator(moderator)
        async with self._deps.database.read() as conn:
            row = await store.case(conn, case_id)
            if row is None:
                raise case_not_found()
            reports = await store.reports_of(conn, case_id)
            notes = await store.notes_of(conn, case_id)
            actions = await store.actions_of_case(conn, case_id)
            appeals = await store.appeals_of_actions(conn, [a.id for a in actions])
            names = await names_for(
                conn,
                [row, *reports, *notes, *actions, *appeals],
                "assignee",
                "owner_account",
                "reporter_account",
                "author",
                "moderator",
                "account_id",
                "decided_by",
            )
        records = {a.id: action_record(a, names) for a in actions}
        return CaseDetail(
            summary=case_summary(row, names),
            owner=names.get(row.owner_account) if row.owner_account else None,
            snapshot=json.loads(row.snapshot).get("content", {}),
            reports=[
                ReportView(
                    r.id,
                    r.source,
                    r.policy_item,
                    r.note,
                    names.get(r.reporter_account) if r.reporter_account else None,
                    r.created_at,
                )
                for r in reports
            ],
            notes=[NoteView(n.id, names.get(n.author, ""), n.text, n.created_at) for n in notes],
            actions=list(records.values()),
            appeals=[appeal_view(a, names, records.get(a.action_id)) for a in appeals],
        )

    async def assign(self, moderator: Principal, case_id: str, assignee: str | None) -> None:
        """Assign the case to a moderator (by username), or unassign it with ``None``."""
        require_moderator(moderator)

        async def job(tx: WriteTx) -> None:
            if await store.case(tx.conn, case_id) is None:
                raise case_not_found()
            assignee_id = None
            if assignee:
                row = await account_store.account_by_username(
                    tx.conn, assignee.lstrip("@").casefold()
                )
                if row is None or row.role not in ("moderator", "admin"):
                    raise InvalidRequest(f"{assignee} is not a moderator")
                assignee_id = row.id
            await store.update_case(tx.conn, case_id, assignee=assignee_id, updated_at=tx.now_ms)
            await audit(tx, moderator, "case.assign", case_id, assignee=assignee)

        await self._deps.writer.run(job)

    async def add_note(self, moderator: Principal, case_id: str, text: str) -> NoteView:
        require_moderator(moderator)
        body = checked_text(text, field="text", min_chars=1, max_chars=TEXT_MAX)
        note_id = new_id("t")

        async def job(tx: WriteTx) -> NoteView:
            if await store.case(tx.conn, case_id) is None:
                raise case_not_found()
            await store.insert_note(
                tx.conn,
                id=note_id,
                case_id=case_id,
                author=moderator.account_id,
                text=body,
                created_at=tx.now_ms,
            )
            await audit(tx, moderator, "case.note", case_id, note_id=note_id)
            return NoteView(note_id, moderator.username, body, tx.now_ms)

        result: NoteView = await self._deps.writer.run(job)
        return result
