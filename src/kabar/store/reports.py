"""Queries for franked message reports: who could see an event, and the verified records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, or_, select

from kabar.store.rows import Record
from kabar.store.schema import membership_periods, message_reports
from kabar.store.threaded import Executor


async def could_see(conn: Executor, conversation_id: str, account_id: str, pos: int) -> bool:
    """Whether one of the account's membership periods in the conversation covers ``pos``."""
    period = membership_periods
    result = await conn.execute(
        select(period.c.joined_pos)
        .where(
            period.c.conversation_id == conversation_id,
            period.c.account_id == account_id,
            period.c.joined_pos <= pos,
            or_(period.c.left_pos.is_(None), period.c.left_pos >= pos),
        )
        .limit(1)
    )
    return result.first() is not None


async def report_of(conn: Executor, reporter_account: str, pos: int) -> Record | None:
    result = await conn.execute(
        select(message_reports).where(
            message_reports.c.reporter_account == reporter_account,
            message_reports.c.event_pos == pos,
        )
    )
    return result.first()


async def insert_report(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(message_reports).values(**values))


async def reports_of_event(conn: Executor, pos: int) -> list[Record]:
    result = await conn.execute(
        select(message_reports)
        .where(message_reports.c.event_pos == pos)
        .order_by(message_reports.c.created_at)
    )
    return list(result)
