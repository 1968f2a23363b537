"""Routes for the affected owner: moderation notices and appeals.

A suspended account may still use these two (and only these): it must be able
to read why it was suspended and to appeal.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from kabar.http.deps import EvenSuspended, Svc
from kabar.http.problems import ERROR_RESPONSES

router = APIRouter(prefix="/v1/notices", tags=["moderation"], responses=ERROR_RESPONSES)


class AppealIn(BaseModel):
    statement: Annotated[str, Field(min_length=1, max_length=4000)]


@router.get("", summary="Moderation notices about your content or account, newest first")
async def notices(principal: EvenSuspended, svc: Svc) -> dict[str, Any]:
    found = await svc.moderation.notices(principal)
    return {"notices": [n.to_json() for n in found]}


@router.post(
    "/{notice_id}/appeal",
    status_code=201,
    summary="Appeal the action of a notice (once, within 30 days)",
)
async def appeal(
    notice_id: Annotated[str, Path(min_length=1, max_length=40)],
    body: AppealIn,
    principal: EvenSuspended,
    svc: Svc,
) -> dict[str, Any]:
    return (await svc.moderation.appeal(principal, notice_id, body.statement)).to_json()
