"""The moderation figures of the monthly transparency report, counted from the case tables.

Implements :class:`kabar.moderation.report.ReportCounts`: reports by policy item
and by source, appeals filed, and for every decision on a case in the period the
time from the case's first report to the action (escalations and actions
without a case, such as none today, are not decisions on reports).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from kabar.moderation.report import ModerationCounts
from kabar.store.database import Database
from kabar.store.schema_moderation import mod_actions, mod_appeals, mod_cases, mod_reports


class ModerationCounter:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def counts(self, start_ms: int, end_ms: int) -> ModerationCounts:
        def within(column: Any) -> ColumnElement[bool]:
            return and_(column >= start_ms, column < end_ms)

        async with self._db.read() as conn:
            by_item = await conn.execute(
                select(mod_reports.c.policy_item, func.count())
                .where(within(mod_reports.c.created_at))
                .group_by(mod_reports.c.policy_item)
            )
            by_source = await conn.execute(
                select(mod_reports.c.source, func.count())
                .where(within(mod_reports.c.created_at))
                .group_by(mod_reports.c.source)
            )
            appeals = await conn.execute(
                select(func.count())
                .select_from(mod_appeals)
                .where(within(mod_appeals.c.created_at))
            )
            waits = await conn.execute(
                select(mod_actions.c.created_at - mod_cases.c.created_at)
                .join(mod_cases, mod_cases.c.id == mod_actions.c.case_id)
                .where(within(mod_actions.c.created_at), mod_actions.c.escalated_from.is_(None))
                .order_by(mod_actions.c.created_at)
            )
            return ModerationCounts(
                reports_by_category={row[0]: int(row[1]) for row in by_item},
                reports_by_source={row[0]: int(row[1]) for row in by_source},
                appeals_filed=int(appeals.scalar_one()),
                time_to_action_ms=[int(row[0]) for row in waits],
            )
