"""The authority-requests register in the console (admins only).

``/console/authority-requests`` lists requests from governments and police
(pending, decided or all) and has the form to record a new one: who asked,
jurisdiction, legal basis, what was asked, the targets (one per line,
``type reference``), when it arrived and how many days after the decision it
may be published. ``/console/authority-requests/{id}`` shows one request and
the form to record (or, until it is in the public log, correct) its decision.
AuthorityService checks everything and decides when it is published.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kabar.errors import KabarError
from kabar.http.console.session import (
    COOKIE_PATH,
    ConsoleTemplates,
    Moderator,
    PostingAdmin,
    SignedInAdmin,
)
from kabar.http.deps import Svc
from kabar.moderation.transparency.entries import AUTHORITY_RESPONSES
from kabar.services import Services

router = APIRouter(prefix=f"{COOKIE_PATH}/authority-requests", include_in_schema=False)

STATUSES = ("all", "pending", "decided")
TARGET_TYPES = ("article", "comment", "public_account", "account", "message")
RESPONSE_NAMES = {
    "no_action": "No action",
    "label": "Label",
    "remove_content": "Remove content",
    "restrict_publishing": "Restrict publishing",
    "suspend": "Suspend an account",
    "disclose_data": "Disclose data",
}
DONE = {"added": "Request recorded.", "decided": "Decision recorded."}
Short = Annotated[str, Form(max_length=500)]
Long = Annotated[str, Form(max_length=10_000)]


class FormError(Exception):
    """A field the console itself could not read (the service checks the rest)."""


def parse_targets(text: str) -> list[dict[str, str]]:
    """``article https://…`` / ``account @alice`` lines → ``[{"type", "ref"}]``."""
    targets = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        kind, _, ref = line.strip().partition(" ")
        if kind not in TARGET_TYPES or not ref.strip():
            raise FormError(
                f"Target line {number}: write a type ({', '.join(TARGET_TYPES)}), a space, "
                "then the reference (a URL, an id or @username)."
            )
        targets.append({"type": kind, "ref": ref.strip()})
    if not targets:
        raise FormError("Name at least one target.")
    return targets


def parse_day(value: str) -> int | None:
    """``2026-03-04`` → that day's start in UTC milliseconds; empty → None."""
    if not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise FormError("The date received is a date like 2026-03-04.") from None
    return int(day.timestamp() * 1000)


def parse_days(value: str, empty: int | None) -> int | None:
    if not value.strip():
        return empty
    try:
        return int(value)
    except ValueError:
        raise FormError("The publication delay is a whole number of days.") from None


def _status_code(exc: KabarError) -> int:
    return exc.status if 400 <= exc.status < 500 else 400


async def _list_page(
    who: Moderator,
    svc: Services,
    templates: ConsoleTemplates,
    status: str,
    *,
    flash: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    requests = await svc.authority.list(who.principal, None if status == "all" else status)
    return templates.render(
        "authority_list.html",
        who,
        status_code=status_code,
        active="authority",
        requests=requests,
        status=status,
        statuses=STATUSES,
        responses=RESPONSE_NAMES,
        target_types=TARGET_TYPES,
        flash=flash,
        error=error,
        form=form or {},
    )


@router.get("", response_class=HTMLResponse, name="console_authority_requests")
async def list_requests(
    who: SignedInAdmin,
    svc: Svc,
    templates: ConsoleTemplates,
    status: Annotated[str, Query(max_length=10)] = "all",
) -> HTMLResponse:
    status = status if status in STATUSES else "all"
    return await _list_page(who, svc, templates, status)


@router.post("", response_model=None)
async def add(
    who: PostingAdmin,
    svc: Svc,
    templates: ConsoleTemplates,
    requester: Short = "",
    jurisdiction: Short = "",
    legal_basis: Long = "",
    request: Long = "",
    targets: Long = "",
    received: Annotated[str, Form(max_length=20)] = "",
    publish_delay_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    form = {
        "requester": requester,
        "jurisdiction": jurisdiction,
        "legal_basis": legal_basis,
        "request": request,
        "targets": targets,
        "received": received,
        "publish_delay_days": publish_delay_days,
    }
    try:
        created = await svc.authority.create(
            who.principal,
            requester=requester,
            jurisdiction=jurisdiction,
            legal_basis=legal_basis,
            request=request,
            targets=parse_targets(targets),
            received_at=parse_day(received),
            publish_delay_days=parse_days(publish_delay_days, 0) or 0,
        )
    except (FormError, KabarError) as exc:
        message = exc.detail if isinstance(exc, KabarError) else str(exc)
        code = _status_code(exc) if isinstance(exc, KabarError) else 400
        return await _list_page(
            who, svc, templates, "all", error=message, form=form, status_code=code
        )
    return RedirectResponse(f"{COOKIE_PATH}/authority-requests/{created.id}?done=added", 303)


async def _detail_page(
    who: Moderator,
    svc: Services,
    templates: ConsoleTemplates,
    request_id: str,
    *,
    flash: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        record = await svc.authority.get(who.principal, request_id)
    except KabarError:
        return templates.render(
            "not_found.html", who, status_code=404, what="authority request", active="authority"
        )
    return templates.render(
        "authority_request.html",
        who,
        status_code=status_code,
        active="authority",
        record=record,
        responses=RESPONSE_NAMES,
        response_values=AUTHORITY_RESPONSES,
        items=svc.moderation.policy_items(),
        flash=flash,
        error=error,
        form=form or {},
    )


@router.get("/{request_id}", response_class=HTMLResponse, name="console_authority_request")
async def show(
    request_id: str,
    who: SignedInAdmin,
    svc: Svc,
    templates: ConsoleTemplates,
    done: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    return await _detail_page(who, svc, templates, request_id, flash=DONE.get(done))


@router.post("/{request_id}/decision", response_model=None)
async def decide(
    request_id: str,
    who: PostingAdmin,
    svc: Svc,
    templates: ConsoleTemplates,
    decision: Annotated[str, Form(max_length=40)] = "",
    policy_item: Annotated[str, Form(max_length=64)] = "",
    summary: Long = "",
    actions_taken: Long = "",
    publish_delay_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    form = {
        "decision": decision,
        "policy_item": policy_item,
        "summary": summary,
        "actions_taken": actions_taken,
        "publish_delay_days": publish_delay_days,
    }
    try:
        await svc.authority.decide(
            who.principal,
            request_id,
            decision=decision,
            policy_item=policy_item,
            summary=summary,
            actions_taken=actions_taken.strip() or None,
            publish_delay_days=parse_days(publish_delay_days, None),
        )
    except (FormError, KabarError) as exc:
        message = exc.detail if isinstance(exc, KabarError) else str(exc)
        code = _status_code(exc) if isinstance(exc, KabarError) else 400
        return await _detail_page(
            who, svc, templates, request_id, error=message, form=form, status_code=code
        )
    return RedirectResponse(f"{COOKIE_PATH}/authority-requests/{request_id}?done=decided", 303)
