"""What every moderation service shares: collaborators, authorisation, the audit log, views.

The moderation services (cases, enforcement, appeals) are small classes over one
:class:`Deps`; this module also turns stored rows into the values of
:mod:`kabar.moderation.models`, so every service shows them the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kabar.accounts.models import Principal, Role
from kabar.accounts.ratelimit import RateLimiter
from kabar.config import Config
from kabar.delivery import control
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import ErrorCode, Forbidden
from kabar.moderation.models import (
    ActionRecord,
    Appeal,
    AppealStatus,
    CaseSummary,
    Notice,
    NoticeAppeal,
)
from kabar.moderation.policy import Policy
from kabar.store import moderation as store
from kabar.store.database import Database
from kabar.store.threaded import Executor

DAY_MS = 86_400_000
APPEAL_WINDOW_DAYS = 30
NOTICE_EVENT = "moderation.notice"
TEXT_MAX = 4000


@dataclass(slots=True)
class Deps:
    database: Database
    writer: Writer
    policy: Policy
    config: Config
    limiter: RateLimiter
    bus: control.ControlBus

    @property
    def public_url(self) -> str:
        return self.config.server.public_url


def is_moderator(principal: Principal) -> bool:
    return principal.role in (Role.MODERATOR, Role.ADMIN)


def require_moderator(principal: Principal) -> None:
    if not is_moderator(principal):
        raise Forbidden("only moderators may do this", code=ErrorCode.NOT_A_MODERATOR)


def require_admin(principal: Principal) -> None:
    if principal.role is not Role.ADMIN:
        raise Forbidden("only admins may do this", code=ErrorCode.NOT_AN_ADMIN)


async def audit(tx: WriteTx, actor: Principal, action: str, subject: str, **detail: Any) -> None:
    """Record a moderator's or admin's action in the same transaction as the action."""
    await store.insert_audit(
        tx.conn,
        actor=actor.account_id,
        action=action,
        subject=subject[:100],
        detail=json.dumps(detail, separators=(",", ":"), sort_keys=True),
        created_at=tx.now_ms,
    )


def case_summary(row: Any, names: dict[str, str]) -> CaseSummary:
    snapshot = json.loads(row.snapshot)
    return CaseSummary(
        id=row.id,
        target_type=row.target_type,
        target_id=row.target_id,
        target_label=snapshot.get("label", ""),
        target_url=snapshot.get("url"),
        policy_item=row.policy_item,
        severity=row.severity,
        status=row.status,
        source=row.source,
        report_count=row.report_count,
        assignee=names.get(row.assignee) if row.assignee else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
    )


def action_record(row: Any, names: dict[str, str]) -> ActionRecord:
    return ActionRecord(
        id=row.id,
        case_id=row.case_id,
        target_type=row.target_type,
        target_id=row.target_id,
        account=names.get(row.account_id) if row.account_id else None,
        action=row.action,
        policy_item=row.policy_item,
        rationale=row.rationale,
        label=row.label,
        duration_days=row.duration_days,
        expires_at=row.expires_at,
        moderator=names.get(row.moderator) if row.moderator else None,
        source=row.source,
        automated=bool(row.automated),
        strikes=row.strikes,
        escalated_from=row.escalated_from,
        reversed_at=row.reversed_at,
        created_at=row.created_at,
    )


def appeal_view(row: Any, names: dict[str, str], action: ActionRecord | None = None) -> Appeal:
    return Appeal(
        id=row.id,
        notice_id=row.notice_id,
        action_id=row.action_id,
        account=names.get(row.account_id, ""),
        statement=row.statement,
        status=row.status,
        decided_by=names.get(row.decided_by) if row.decided_by else None,
        rationale=row.rationale,
        created_at=row.created_at,
        decided_at=row.decided_at,
        action=action,
    )


async def names_for(conn: Executor, rows: list[Any], *columns: str) -> dict[str, str]:
    ids: set[str | None] = set()
    for row in rows:
        for column in columns:
            ids.add(getattr(row, column, None))
    return await store.usernames(conn, ids)


def notice_view(row: Any, policy: Policy) -> Notice:
    """A joined notice row (kabar.store.moderation.notice) as the owner sees it."""
    try:
        title = policy.item(row.policy_item).title
    except Exception:
        title = row.policy_item  # an item since dropped from the policy keeps its id
    return Notice(
        id=row.notice_id,
        created_at=row.notice_created_at,
        action=row.action,
        policy_item_id=row.policy_item,
        policy_item_title=title,
        target_type=row.target_type,
        target_id=row.target_id,
        target_label=row.target_label,
        target_url=row.target_url,
        rationale=row.rationale,
        label=row.label,
        duration_days=row.duration_days,
        appeal=NoticeAppeal(
            deadline=row.notice_created_at + APPEAL_WINDOW_DAYS * DAY_MS,
            status=row.appeal_status or AppealStatus.NONE.value,
            decided_at=row.appeal_decided_at,
            rationale=row.appeal_rationale,
        ),
    )
