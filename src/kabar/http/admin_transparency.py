"""Admin routes of the authority-requests register and the hash lists (admins only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from kabar.http.deps import Authenticated, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.moderation.authority import AuthorityRecord
from kabar.moderation.transparency.entries import AUTHORITY_RESPONSES

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)

RequestIdPath = Annotated[str, Path(min_length=1, max_length=40)]
Text500 = Annotated[str, Field(min_length=1, max_length=500)]
Decision = Literal[
    "no_action", "label", "remove_content", "restrict_publishing", "suspend", "disclose_data"
]
assert set(Decision.__args__) == set(AUTHORITY_RESPONSES)  # type: ignore[attr-defined]


class TargetIn(BaseModel):
    type: Literal["article", "comment", "public_account", "account", "message"]
    ref: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2048,
            description="public URL or kabar id; an account by @username or id; a message by id",
        ),
    ]


class AuthorityRequestIn(BaseModel):
    requester: Text500 = Field(examples=["Example City Police"])
    jurisdiction: Annotated[str, Field(min_length=1, max_length=100)]
    legal_basis: Text500
    request: Text500 = Field(description="what was asked, one line (it is published)")
    targets: Annotated[list[TargetIn], Field(min_length=1, max_length=50)]
    received_at: Annotated[int | None, Field(ge=0, le=2**53 - 1)] = None
    """When the request arrived (ms); default now."""
    publish_delay_days: Annotated[int, Field(ge=0, le=3650)] = 0


class AuthorityDecisionIn(BaseModel):
    decision: Decision
    policy_item: Annotated[str, Field(min_length=1, max_length=64)]
    summary: Annotated[str, Field(min_length=1, max_length=1000)] = Field(
        description="the public rationale; it is published, so no personal data"
    )
    actions_taken: Annotated[str | None, Field(max_length=4000)] = None
    publish_delay_days: Annotated[int | None, Field(ge=0, le=3650)] = None
    """Replaces the delay given when the request was recorded."""


class TargetOut(BaseModel):
    type: str
    ref: str


class AuthorityRequestOut(BaseModel):
    id: str
    requester: str
    jurisdiction: str
    legal_basis: str
    request: str
    targets: list[TargetOut]
    received_at: int
    publish_delay_days: int
    status: Literal["pending", "decided"]
    decision: str | None
    policy_item: str | None
    summary: str | None
    actions_taken: str | None
    decided_at: int | None
    decided_by: str | None
    publish_after: int | None = Field(description="from when it may be public (ms)")
    published: bool
    log_seq: int | None = Field(description="its transparency log index once published")
    created_by: str
    created_at: int


class AuthorityRequestList(BaseModel):
    requests: list[AuthorityRequestOut]


def _out(record: AuthorityRecord) -> AuthorityRequestOut:
    return AuthorityRequestOut(
        id=record.id,
        requester=record.requester,
        jurisdiction=record.jurisdiction,
        legal_basis=record.legal_basis,
        request=record.request,
        targets=[TargetOut(**t) for t in record.targets],
        received_at=record.received_at,
        publish_delay_days=record.publish_delay_days,
        status=record.status,
        decision=record.decision,
        policy_item=record.policy_item,
        summary=record.summary,
        actions_taken=record.actions_taken,
        decided_at=record.decided_at,
        decided_by=record.decided_by,
        publish_after=record.publish_after,
        published=record.published,
        log_seq=record.log_seq,
        created_by=record.created_by,
        created_at=record.created_at,
    )


@router.post("/authority-requests", status_code=201, summary="Record an authority request")
async def create_authority_request(
    body: AuthorityRequestIn, principal: Authenticated, svc: Svc
) -> AuthorityRequestOut:
    record = await svc.authority.create(
        principal,
        requester=body.requester,
        jurisdiction=body.jurisdiction,
        legal_basis=body.legal_basis,
        request=body.request,
        targets=[t.model_dump() for t in body.targets],
        received_at=body.received_at,
        publish_delay_days=body.publish_delay_days,
    )
    return _out(record)


@router.get("/authority-requests", summary="The register, newest first")
async def list_authority_requests(
    principal: Authenticated,
    svc: Svc,
    status: Literal["pending", "decided", "all"] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuthorityRequestList:
    records = await svc.authority.list(principal, None if status == "all" else status, limit)
    return AuthorityRequestList(requests=[_out(r) for r in records])


@router.get("/authority-requests/{request_id}", summary="One authority request")
async def get_authority_request(
    request_id: RequestIdPath, principal: Authenticated, svc: Svc
) -> AuthorityRequestOut:
    return _out(await svc.authority.get(principal, request_id))


@router.patch("/authority-requests/{request_id}", summary="Record the decision and actions")
async def decide_authority_request(
    request_id: RequestIdPath, body: AuthorityDecisionIn, principal: Authenticated, svc: Svc
) -> AuthorityRequestOut:
    """Logged publicly at once, or once ``publish_delay_days`` have passed since the decision;
    correctable until then (409 ``authority_request_published`` afterwards)."""
    record = await svc.authority.decide(
        principal,
        request_id,
        decision=body.decision,
        policy_item=body.policy_item,
        summary=body.summary,
        actions_taken=body.actions_taken,
        publish_delay_days=body.publish_delay_days,
    )
    return _out(record)
