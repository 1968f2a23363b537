"""Appeals and the audit log in the console.

``/console/appeals`` lists appeals (pending by default) with the action they
contest and a form to grant or deny each. The moderator who took an action
may not decide its appeal: the page says so instead of offering the form, and
ModerationService refuses it anyway (``appeal_conflict``), which the page
shows as a clear message. ``/console/audit`` (admins) pages through the audit
log of every moderator and admin action, newest first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kabar.errors import ErrorCode, KabarError
from kabar.http.console.cases import ACTION_NAMES
from kabar.http.console.session import (
    COOKIE_PATH,
    ConsoleTemplates,
    Moderator,
    Posting,
    SignedIn,
    SignedInAdmin,
)
from kabar.http.deps import Svc
from kabar.services import Services

router = APIRouter(prefix=COOKIE_PATH, include_in_schema=False)

APPEAL_STATUSES = ("pending", "granted", "denied", "all")
CONFLICT = (
    "You took the action this appeal contests, so another moderator must decide it. "
    "Appeals are always decided by someone else."
)
DONE = {
    "granted": "Appeal granted: the action is reversed and the owner has been told.",
    "denied": "Appeal denied: the owner has been told.",
}


async def _appeals_page(
    who: Moderator,
    svc: Services,
    templates: ConsoleTemplates,
    status: str,
    *,
    flash: str | None = None,
    error: str | None = None,
    error_for: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    appeals = await svc.moderation.appeals(who.principal, None if status == "all" else status)
    return templates.render(
        "appeals.html",
        who,
        status_code=status_code,
        active="appeals",
        appeals=appeals,
        status=status,
        statuses=APPEAL_STATUSES,
        titles={item.id: item.title for item in svc.moderation.policy_items()},
        action_names=ACTION_NAMES,
        conflict=CONFLICT,
        flash=flash,
        error=error,
        error_for=error_for,
    )


@router.get("/appeals", response_class=HTMLResponse, name="console_appeals")
async def appeals(
    who: SignedIn,
    svc: Svc,
    templates: ConsoleTemplates,
    status: Annotated[str, Query(max_length=10)] = "pending",
    done: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    status = status if status in APPEAL_STATUSES else "pending"
    return await _appeals_page(who, svc, templates, status, flash=DONE.get(done))


@router.post("/appeals/{appeal_id}/decision", response_model=None)
async def decide(
    appeal_id: str,
    who: Posting,
    svc: Svc,
    templates: ConsoleTemplates,
    decision: Annotated[str, Form(max_length=10)] = "",
    rationale: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    async def refuse(message: str, status_code: int = 400) -> HTMLResponse:
        return await _appeals_page(
            who,
            svc,
            templates,
            "pending",
            error=message,
            error_for=appeal_id,
            status_code=status_code,
        )

    if decision not in ("grant", "deny"):
        return await refuse("Choose whether to grant or deny the appeal.")
    if not rationale.strip():
        return await refuse("Write a rationale: the owner is told why.")
    try:
        await svc.moderation.decide_appeal(who.principal, appeal_id, decision == "grant", rationale)
    except KabarError as exc:
        if exc.code == ErrorCode.APPEAL_CONFLICT:
            return await refuse(CONFLICT, 403)
        return await refuse(exc.detail, exc.status if 400 <= exc.status < 500 else 400)
    outcome = "granted" if decision == "grant" else "denied"
    return RedirectResponse(f"{COOKIE_PATH}/appeals?done={outcome}", status_code=303)


@router.get("/audit", response_class=HTMLResponse, name="console_audit")
async def audit(
    who: SignedInAdmin,
    svc: Svc,
    templates: ConsoleTemplates,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    error = None
    try:
        page = await svc.moderation.audit(who.principal, cursor, 100)
    except KabarError as exc:  # a mangled cursor: the first page, and why
        error = exc.detail
        page = await svc.moderation.audit(who.principal, None, 100)
    return templates.render(
        "audit.html", who, active="audit", entries=page.items, next_cursor=page.next, error=error
    )
