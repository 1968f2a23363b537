"""The queue and the case page: what was reported, by whom, and the forms to act on it.

``/console`` lists cases (open by default; severity first, then oldest) and has
the form to open a case on the moderator's own initiative (``POST /console/cases``);
``/console/cases/{id}`` shows the reported content as it was when reported,
the reports (reporter names are shown here, to moderators only), notes,
earlier actions and appeals, and the forms to assign, note and act. Acting
picks a policy item and one of the actions that item allows from one select
(grouped by item, so no script is needed to keep the choice valid), with a
rationale; a duration applies to restrictions and suspensions, a label text to
labels. Everything goes through ModerationService, which checks it all again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kabar.errors import KabarError
from kabar.http.console.session import (
    COOKIE_PATH,
    ConsoleTemplates,
    Moderator,
    Posting,
    SignedIn,
)
from kabar.http.deps import Svc
from kabar.moderation.actions import Action
from kabar.services import Services

router = APIRouter(prefix=COOKIE_PATH, include_in_schema=False)

STATUSES = ("open", "closed", "all")
ACCOUNT_ACTIONS = (Action.RESTRICT_PUBLISHING.value, Action.SUSPEND.value)
ACTION_NAMES = {
    "dismiss": "Dismiss (no violation)",
    "label": "Label",
    "remove_content": "Remove the content",
    "restrict_publishing": "Restrict publishing",
    "suspend": "Suspend the account",
}
DONE = {
    "noted": "Note added.",
    "assigned": "Assignment saved.",
    "acted": "Action taken. The case is closed and the owner has been notified.",
    "opened": "Case opened. Its source is moderator.",
    "joined": "This already had an open case: your report joined it.",
}
TARGET_TYPES = {
    "article": "Article (id)",
    "comment": "Comment (id)",
    "public_account": "Public account (id or @handle)",
    "account": "Account (id or @username)",
}
LongText = Annotated[str, Form(max_length=10_000)]


def _status_code(error: KabarError) -> int:
    return error.status if 400 <= error.status < 500 else 400


@router.get("", response_class=HTMLResponse, name="console_queue")
async def queue(
    who: SignedIn,
    svc: Svc,
    templates: ConsoleTemplates,
    status: Annotated[str, Query(max_length=10)] = "open",
    assigned: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    return await _queue_page(who, svc, templates, status, assigned, cursor)


async def _queue_page(
    who: Moderator,
    svc: Services,
    templates: ConsoleTemplates,
    status: str = "open",
    assigned: str = "",
    cursor: str | None = None,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    status = status if status in STATUSES else "open"
    try:
        page = await svc.moderation.queue(who.principal, status, assigned or None, cursor, 50)
    except KabarError as exc:  # a stale cursor: show the first page and say why
        error = exc.detail
        page = await svc.moderation.queue(who.principal, status, assigned or None, None, 50)
    return templates.render(
        "queue.html",
        who,
        status_code=status_code,
        active="queue",
        cases=page.items,
        next_cursor=page.next,
        status=status,
        assigned=assigned,
        statuses=STATUSES,
        titles=_titles(svc),
        items=svc.moderation.policy_items(),
        target_types=TARGET_TYPES,
        error=error,
        form=form or {},
    )


@router.post("/cases", response_model=None)
async def open_case(
    who: Posting,
    svc: Svc,
    templates: ConsoleTemplates,
    target_type: Annotated[str, Form(max_length=32)] = "",
    target_id: Annotated[str, Form(max_length=200)] = "",
    policy_item: Annotated[str, Form(max_length=64)] = "",
    note: LongText = "",
) -> Response:
    """Open a case on the moderator's own initiative (or join the target's open one)."""
    form = {
        "target_type": target_type,
        "target_id": target_id,
        "policy_item": policy_item,
        "note": note,
    }
    try:
        case, opened = await svc.moderation.open_case(
            who.principal,
            {"type": target_type, "id": target_id.strip()},
            policy_item,
            note.strip() or None,
        )
    except KabarError as exc:
        return await _queue_page(
            who, svc, templates, error=exc.detail, status_code=_status_code(exc), form=form
        )
    return _back(case.summary.id, "opened" if opened else "joined")


def _titles(svc: Services) -> dict[str, str]:
    return {item.id: item.title for item in svc.moderation.policy_items()}


async def _case_page(
    who: Moderator,
    svc: Services,
    templates: ConsoleTemplates,
    case_id: str,
    *,
    flash: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    try:
        case = await svc.moderation.case(who.principal, case_id)
    except KabarError:
        return templates.render("not_found.html", who, status_code=404, what="case", active="queue")
    items = svc.moderation.policy_items()
    return templates.render(
        "case.html",
        who,
        status_code=status_code,
        active="queue",
        case=case,
        items=items,
        titles={item.id: item.title for item in items},
        action_names=ACTION_NAMES,
        account_actions=ACCOUNT_ACTIONS,
        flash=flash,
        error=error,
        form=form or {},
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse, name="console_case")
async def case_page(
    case_id: str,
    who: SignedIn,
    svc: Svc,
    templates: ConsoleTemplates,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return await _case_page(who, svc, templates, case_id, flash=DONE.get(done))


def _back(case_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{COOKIE_PATH}/cases/{case_id}?done={done}", status_code=303)


@router.post("/cases/{case_id}/notes", response_model=None)
async def add_note(
    case_id: str,
    who: Posting,
    svc: Svc,
    templates: ConsoleTemplates,
    text: LongText = "",
) -> Response:
    try:
        await svc.moderation.add_note(who.principal, case_id, text)
    except KabarError as exc:
        return await _case_page(
            who,
            svc,
            templates,
            case_id,
            error=exc.detail,
            status_code=_status_code(exc),
            form={"note": text},
        )
    return _back(case_id, "noted")


@router.post("/cases/{case_id}/assign", response_model=None)
async def assign(
    case_id: str,
    who: Posting,
    svc: Svc,
    templates: ConsoleTemplates,
    assignee: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    chosen = assignee.strip().lstrip("@") or None
    try:
        await svc.moderation.assign(who.principal, case_id, chosen)
    except KabarError as exc:
        return await _case_page(
            who, svc, templates, case_id, error=exc.detail, status_code=_status_code(exc)
        )
    return _back(case_id, "assigned")


@router.post("/cases/{case_id}/actions", response_model=None)
async def act(
    case_id: str,
    who: Posting,
    svc: Svc,
    templates: ConsoleTemplates,
    decision: Annotated[str, Form(max_length=200)] = "",
    rationale: LongText = "",
    duration_days: Annotated[str, Form(max_length=10)] = "",
    label: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    form = {
        "decision": decision,
        "rationale": rationale,
        "duration_days": duration_days,
        "label": label,
    }

    async def refuse(message: str, status_code: int = 400) -> HTMLResponse:
        return await _case_page(
            who, svc, templates, case_id, error=message, status_code=status_code, form=form
        )

    policy_item, _, action = decision.partition(":")
    if not policy_item or not action:
        return await refuse("Choose a policy item and an action.")
    if not rationale.strip():
        return await refuse("Write a rationale: the owner is told why, and so is an appeal.")
    days: int | None = None
    if action in ACCOUNT_ACTIONS and duration_days.strip():
        try:
            days = int(duration_days)
        except ValueError:
            return await refuse("The duration is a whole number of days.")
    try:
        await svc.moderation.act(
            who.principal,
            case_id,
            action,
            policy_item,
            rationale,
            duration_days=days,
            label=label.strip() if action == Action.LABEL.value else None,
        )
    except KabarError as exc:
        return await refuse(exc.detail, _status_code(exc))
    return _back(case_id, "acted")
