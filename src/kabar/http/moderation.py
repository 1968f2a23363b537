"""Routes for moderation: the public policy, reports, and the moderators' cases and appeals.

The JSON shapes are the contract in docs/api.md § moderation (the console and the
web app build on them); the values come from ``to_json()`` of
:mod:`kabar.moderation.models`, so every client sees the same fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from kabar.http.deps import Authenticated, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.http.public_schemas import CursorQuery, LimitQuery

router = APIRouter(tags=["moderation"], responses=ERROR_RESPONSES)

IdPath = Annotated[str, Path(min_length=1, max_length=40)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]


class TargetIn(BaseModel):
    type: Annotated[str, Field(max_length=32, examples=["article"])]
    id: Annotated[str, Field(min_length=1, max_length=64)]


class ReportIn(BaseModel):
    target: TargetIn
    policy_item: Annotated[str, Field(min_length=1, max_length=64, examples=["spam"])]
    note: Annotated[str | None, Field(max_length=1000)] = None


class ReportOut(BaseModel):
    report_id: str
    status: Literal["received"] = "received"


class AssignIn(BaseModel):
    assignee: Annotated[str | None, Field(max_length=64, description="a username, or null")]


class NoteIn(BaseModel):
    text: Text


class ActionIn(BaseModel):
    action: Annotated[str, Field(max_length=32, examples=["remove_content"])]
    policy_item: Annotated[str, Field(min_length=1, max_length=64)]
    rationale: Text
    duration_days: Annotated[int | None, Field(ge=1, le=3650)] = None
    label: Annotated[str | None, Field(max_length=200)] = None


class DecisionIn(BaseModel):
    grant: bool
    rationale: Text


@router.get("/v1/moderation/policy", summary="The moderation policy (no sign-in needed)")
async def policy(svc: Svc) -> dict[str, Any]:
    return {
        "items": [
            {
                "id": item.id,
                "title": item.title,
                "description": item.description,
                "severity": item.severity,
                "actions": [a.value for a in item.actions],
            }
            for item in svc.moderation.policy_items()
        ]
    }


@router.post(
    "/v1/moderation/reports",
    status_code=202,
    summary="Report an article, comment, public account or account under a policy item",
)
async def report(body: ReportIn, principal: Authenticated, svc: Svc) -> ReportOut:
    report_id = await svc.moderation.report(
        principal, {"type": body.target.type, "id": body.target.id}, body.policy_item, body.note
    )
    return ReportOut(report_id=report_id)


class OpenCaseIn(BaseModel):
    target: TargetIn
    policy_item: Annotated[str, Field(min_length=1, max_length=64, examples=["spam"])]
    note: Annotated[str | None, Field(max_length=1000)] = None


@router.post(
    "/v1/moderation/cases",
    status_code=201,
    summary="Open a case on a moderator's own initiative, or join the open one (moderators)",
    responses={200: {"description": "the target already had an open case: joined, returned"}},
)
async def open_case(
    body: OpenCaseIn, principal: Authenticated, svc: Svc, response: Response
) -> dict[str, Any]:
    detail, opened = await svc.moderation.open_case(
        principal, {"type": body.target.type, "id": body.target.id}, body.policy_item, body.note
    )
    if not opened:
        response.status_code = 200
    return detail.to_json()


@router.get("/v1/moderation/cases", summary="The queue: severity first, then oldest (moderators)")
async def cases(
    principal: Authenticated,
    svc: Svc,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "open",
    assigned: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> dict[str, Any]:
    page = await svc.moderation.queue(principal, status, assigned, cursor, limit)
    return {"cases": [c.to_json() for c in page.items], "next": page.next}


@router.get("/v1/moderation/cases/{case_id}", summary="A case with its reports, notes, actions")
async def case(case_id: IdPath, principal: Authenticated, svc: Svc) -> dict[str, Any]:
    return (await svc.moderation.case(principal, case_id)).to_json()


@router.post("/v1/moderation/cases/{case_id}/assign", summary="Assign a case (moderators)")
async def assign(
    case_id: IdPath, body: AssignIn, principal: Authenticated, svc: Svc
) -> dict[str, Any]:
    await svc.moderation.assign(principal, case_id, body.assignee)
    return (await svc.moderation.case(principal, case_id)).to_json()


@router.post(
    "/v1/moderation/cases/{case_id}/notes",
    status_code=201,
    summary="Add an internal note (moderators)",
)
async def add_note(
    case_id: IdPath, body: NoteIn, principal: Authenticated, svc: Svc
) -> dict[str, Any]:
    return (await svc.moderation.add_note(principal, case_id, body.text)).to_json()


@router.post(
    "/v1/moderation/cases/{case_id}/actions",
    status_code=201,
    summary="Decide a case: dismiss, label, remove, restrict or suspend (moderators)",
)
async def act(
    case_id: IdPath, body: ActionIn, principal: Authenticated, svc: Svc
) -> dict[str, Any]:
    record = await svc.moderation.act(
        principal,
        case_id,
        body.action,
        body.policy_item,
        body.rationale,
        body.duration_days,
        body.label,
    )
    return record.to_json()


@router.get("/v1/moderation/appeals", summary="Appeals, oldest first (moderators)")
async def appeals(
    principal: Authenticated,
    svc: Svc,
    status: Annotated[Literal["pending", "granted", "denied", "all"], Query()] = "pending",
) -> dict[str, Any]:
    found = await svc.moderation.appeals(principal, status)
    return {"appeals": [a.to_json() for a in found]}


@router.post(
    "/v1/moderation/appeals/{appeal_id}/decision",
    summary="Grant (reverse the action) or deny an appeal (another moderator)",
)
async def decide(
    appeal_id: IdPath, body: DecisionIn, principal: Authenticated, svc: Svc
) -> dict[str, Any]:
    decided = await svc.moderation.decide_appeal(principal, appeal_id, body.grant, body.rationale)
    return decided.to_json()


class RoleIn(BaseModel):
    role: Literal["user", "moderator", "admin"]


@router.put("/v1/admin/accounts/{username}/role", summary="Set an account's role (admins)")
async def set_role(
    username: Annotated[str, Path(min_length=1, max_length=64)],
    body: RoleIn,
    principal: Authenticated,
    svc: Svc,
) -> dict[str, Any]:
    await svc.moderation.set_role(principal, username, body.role)
    return {"username": username.lstrip("@").casefold(), "role": body.role}


@router.get("/v1/admin/audit", summary="The audit log of moderator and admin actions (admins)")
async def audit(
    principal: Authenticated, svc: Svc, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> dict[str, Any]:
    page = await svc.moderation.audit(principal, cursor, limit)
    return {"entries": [e.to_json() for e in page.items], "next": page.next}
