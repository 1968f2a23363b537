"""The transparency report: ``/transparency`` (HTML, per month) and ``/transparency/report.json``.

Both take ``?month=YYYY-MM`` (UTC; default the current month) and show the same
figures (``kabar.moderation.report``). The page works without JavaScript and
has no inline script or style, so the site's CSP applies unchanged.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from kabar.errors import InvalidRequest
from kabar.http.deps import Svc
from kabar.http.pages import Templates
from kabar.http.problems import ERROR_RESPONSES
from kabar.moderation.actions import Action
from kabar.moderation.report import Month

router = APIRouter(tags=["transparency"], responses=ERROR_RESPONSES)

MonthQuery = Annotated[
    str | None, Query(max_length=7, description="YYYY-MM (UTC); default: this month")
]
SOURCES = {
    "user_report": "User reports",
    "hash_match": "Hash matches",
    "moderator": "Moderators' own initiative",
    "authority": "Authorities",
}
ACTIONS = {
    Action.DISMISS.value: "Dismissed",
    Action.LABEL.value: "Labelled",
    Action.REMOVE_CONTENT.value: "Content removed",
    Action.RESTRICT_PUBLISHING.value: "Publishing restricted",
    Action.SUSPEND.value: "Account suspended",
    "no_action": "No action",
    "disclose_data": "Data disclosed",
}


def _month(text: str | None) -> Month:
    return Month.parse(text) if text else Month.of(int(time.time() * 1000))


def duration(ms: int | None) -> str | None:
    """``45 min``, ``3 h 20 min``, ``2.5 days``."""
    if ms is None:
        return None
    minutes = round(ms / 60_000)
    if minutes < 60:
        return f"{max(minutes, 1) if ms else 0} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{ms / 86_400_000:.1f} days"


@router.get("/transparency/report.json", summary="The monthly transparency report as JSON")
async def report_json(svc: Svc, month: MonthQuery = None) -> dict[str, Any]:
    """Reports by category and source, actions by type, source and policy item, the median
    time to action, appeals filed, granted and denied, and published authority requests."""
    report = await svc.transparency_report.month(_month(month))
    return report.to_json()


@router.get("/transparency", response_class=HTMLResponse, include_in_schema=False)
async def report_page(svc: Svc, templates: Templates, month: MonthQuery = None) -> HTMLResponse:
    try:
        chosen = _month(month)
    except InvalidRequest as exc:
        return templates.render("not_found.html", status_code=400, what=f"month ({exc.detail})")
    report = await svc.transparency_report.month(chosen)
    head = await svc.transparency.head()
    return templates.render(
        "transparency.html",
        report=report,
        months=await svc.transparency_report.months(),
        is_current=chosen == Month.of(int(time.time() * 1000)),
        median=duration(report.median_time_to_action_ms),
        head=head,
        public_key=svc.transparency.public_key.to_raw_base64(),
        titles=svc.transparency_report.titles,
        sources=SOURCES,
        actions=ACTIONS,
    )
