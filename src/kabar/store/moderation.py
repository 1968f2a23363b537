"""Queries over the moderation tables (kabar.store.schema_moderation)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update

from kabar.store.rows import Record
from kabar.store.schema import accounts
from kabar.store.schema_moderation import (
    mod_actions,
    mod_appeals,
    mod_audit,
    mod_cases,
    mod_notes,
    mod_notices,
    mod_reports,
)
from kabar.store.threaded import Executor


async def usernames(conn: Executor, ids: set[str | None]) -> dict[str, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    query = select(accounts.c.id, accounts.c.username).where(accounts.c.id.in_(wanted))
    return {row.id: row.username for row in await conn.execute(query)}


# -- cases ------------------------------------------------------------------------------------


async def open_case(conn: Executor, target_type: str, target_id: str) -> Record | None:
    query = select(mod_cases).where(
        mod_cases.c.target_type == target_type,
        mod_cases.c.target_id == target_id,
        mod_cases.c.status == "open",
    )
    return (await conn.execute(query)).first()


async def insert_case(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(mod_cases).values(**values))


async def update_case(conn: Executor, case_id: str, **values: Any) -> None:
    await conn.execute(update(mod_cases).where(mod_cases.c.id == case_id).values(**values))


async def case(conn: Executor, case_id: str) -> Record | None:
    return (await conn.execute(select(mod_cases).where(mod_cases.c.id == case_id))).first()


async def queue(
    conn: Executor,
    status: str | None,
    assignee: str | None,
    after: tuple[int, int, str] | None,
    limit: int,
) -> list[Record]:
    """Cases by severity (highest first), then age (oldest first), after a cursor."""
    query = select(mod_cases)
    if status is not None:
        query = query.where(mod_cases.c.status == status)
    if assignee is not None:
        query = query.where(mod_cases.c.assignee == assignee)
    if after is not None:
        severity, created_at, case_id = after
        query = query.where(
            or_(
                mod_cases.c.severity < severity,
                and_(mod_cases.c.severity == severity, mod_cases.c.created_at > created_at),
                and_(
                    mod_cases.c.severity == severity,
                    mod_cases.c.created_at == created_at,
                    mod_cases.c.id > case_id,
                ),
            )
        )
    query = query.order_by(
        mod_cases.c.severity.desc(), mod_cases.c.created_at, mod_cases.c.id
    ).limit(limit)
    return list(await conn.execute(query))


# -- reports and notes ------------------------------------------------------------------------


async def insert_report(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(mod_reports).values(**values))


async def reports_of(conn: Executor, case_id: str) -> list[Record]:
    query = (
        select(mod_reports)
        .where(mod_reports.c.case_id == case_id)
        .order_by(mod_reports.c.created_at, mod_reports.c.id)
    )
    return list(await conn.execute(query))


async def insert_note(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(mod_notes).values(**values))


async def notes_of(conn: Executor, case_id: str) -> list[Record]:
    query = (
        select(mod_notes)
        .where(mod_notes.c.case_id == case_id)
        .order_by(mod_notes.c.created_at, mod_notes.c.id)
    )
    return list(await conn.execute(query))


# -- actions ----------------------------------------------------------------------------------


async def insert_action(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(mod_actions).values(**values))


async def update_action(conn: Executor, action_id: str, **values: Any) -> None:
    await conn.execute(update(mod_actions).where(mod_actions.c.id == action_id).values(**values))


async def action(conn: Executor, action_id: str) -> Record | None:
    return (await conn.execute(select(mod_actions).where(mod_actions.c.id == action_id))).first()


async def actions_where(conn: Executor, *conditions: Any) -> list[Record]:
    query = select(mod_actions).where(*conditions).order_by(mod_actions.c.created_at)
    return list(await conn.execute(query))


async def actions_of_case(conn: Executor, case_id: str) -> list[Record]:
    return await actions_where(conn, mod_actions.c.case_id == case_id)


async def escalations_of(conn: Executor, action_id: str) -> list[Record]:
    return await actions_where(conn, mod_actions.c.escalated_from == action_id)


async def strike_count(conn: Executor, account_id: str, since_ms: int) -> int:
    """Strikes of upheld (not reversed) actions against the account since ``since_ms``."""
    query = select(func.coalesce(func.sum(mod_actions.c.strikes), 0)).where(
        mod_actions.c.account_id == account_id,
        mod_actions.c.reversed_at.is_(None),
        mod_actions.c.created_at >= since_ms,
    )
    return int((await conn.execute(query)).scalar_one())


async def active(conn: Executor, account_id: str, action_name: str, now_ms: int) -> list[Record]:
    """Unreversed, unexpired actions of one kind against an account."""
    return await actions_where(
        conn,
        mod_actions.c.account_id == account_id,
        mod_actions.c.action == action_name,
        mod_actions.c.reversed_at.is_(None),
        or_(mod_actions.c.expires_at.is_(None), mod_actions.c.expires_at > now_ms),
    )


async def expired_suspensions(conn: Executor, now_ms: int) -> list[Record]:
    """Timed suspensions that have run out but whose account may still be suspended."""
    return await actions_where(
        conn,
        mod_actions.c.action == "suspend",
        mod_actions.c.reversed_at.is_(None),
        mod_actions.c.expires_at.is_not(None),
        mod_actions.c.expires_at <= now_ms,
    )


# -- notices and appeals ----------------------------------------------------------------------


async def insert_notice(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(mod_notices).values(**values))


def _notice_query() -> Any:
    return (
        select(
            mod_notices.c.id.label("notice_id"),
            mod_notices.c.account_id.label("notice_account"),
            mod_notices.c.created_at.label("notice_created_at"),
            mod_notices.c.target_label,
            mod_notices.c.target_url,
            *mod_actions.c,
            mod_appeals.c.status.label("appeal_status"),
            mod_appeals.c.decided_at.label("appeal_decided_at"),
            mod_appeals.c.rationale.label("appeal_rationale"),
        )
        .join(mod_actions, mod_actions.c.id == mod_notices.c.action_id)
        .outerjoin(mod_appeals, mod_appeals.c.action_id == mod_notices.c.action_id)
    )


async def notices_of(conn: Executor, account_id: str, limit: int) -> list[Record]:
    query = (
        _notice_query()
        .where(mod_notices.c.account_id == account_id)
        .order_by(mod_notices.c.created_at.desc(), mod_notices.c.id.desc())
        .limit(limit)
    )
    return list(await conn.execute(query))


async def notice(conn: Executor, notice_id: str) -> Record | None:
    return (await conn.execute(_notice_query().where(mod_notices.c.id == notice_id))).first()


async def insert_appeal(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(mod_appeals).values(**values))


async def update_appeal(conn: Executor, appeal_id: str, **values: Any) -> None:
    await conn.execute(update(mod_appeals).where(mod_appeals.c.id == appeal_id).values(**values))


async def appeal(conn: Executor, appeal_id: str) -> Record | None:
    return (await conn.execute(select(mod_appeals).where(mod_appeals.c.id == appeal_id))).first()


async def appeal_of_action(conn: Executor, action_id: str) -> Record | None:
    query = select(mod_appeals).where(mod_appeals.c.action_id == action_id)
    return (await conn.execute(query)).first()


async def appeals(conn: Executor, status: str | None, limit: int) -> list[Record]:
    query = select(mod_appeals)
    if status is not None:
        query = query.where(mod_appeals.c.status == status)
    query = query.order_by(mod_appeals.c.created_at, mod_appeals.c.id).limit(limit)
    return list(await conn.execute(query))


async def appeals_of_actions(conn: Executor, action_ids: list[str]) -> list[Record]:
    if not action_ids:
        return []
    query = select(mod_appeals).where(mod_appeals.c.action_id.in_(action_ids))
    return list(await conn.execute(query.order_by(mod_appeals.c.created_at)))


# -- audit ------------------------------------------------------------------------------------


async def insert_audit(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(mod_audit).values(**values))


async def audit(conn: Executor, before: int | None, limit: int) -> list[Record]:
    """Newest first."""
    query = select(mod_audit)
    if before is not None:
        query = query.where(mod_audit.c.id < before)
    return list(await conn.execute(query.order_by(mod_audit.c.id.desc()).limit(limit)))
