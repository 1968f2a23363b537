"""Routes for franked abuse reports of end-to-end encrypted messages."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from kabar.http.deps import Authenticated, Svc
from kabar.http.problems import ERROR_RESPONSES

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=ERROR_RESPONSES)


class MessageReportIn(BaseModel):
    """What a recipient reveals about one message it received (docs/e2e.md § franking)."""

    event_id: Annotated[str, Field(min_length=1, max_length=40)]
    message: Annotated[
        str, Field(min_length=1, max_length=90_000, description="base64 of the canonical content M")
    ]
    franking_key: Annotated[
        str, Field(min_length=1, max_length=64, description="base64 of the 32-byte franking key")
    ]
    reason: Annotated[str | None, Field(max_length=1000)] = None
    policy_item: Annotated[
        str | None,
        Field(max_length=64, description="the moderation policy item (default: other)"),
    ] = None


class MessageReportOut(BaseModel):
    report_id: str
    event_id: str
    conversation_id: str
    sender_account: str
    sender_device: str
    message: str = Field(description="the verified content M the sender sent")
    created_at: int
    duplicate: bool


@router.post(
    "/messages",
    status_code=201,
    summary="Report a message you received; the server verifies it before recording it",
    responses={200: {"model": MessageReportOut, "description": "already reported by you"}},
)
async def report_message(
    body: MessageReportIn, principal: Authenticated, svc: Svc, response: Response
) -> MessageReportOut:
    report = await svc.reports.report(
        principal, body.event_id, body.message, body.franking_key, body.reason, body.policy_item
    )
    if report.duplicate:
        response.status_code = 200
    return MessageReportOut(**dataclasses.asdict(report))
