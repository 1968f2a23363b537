"""Admin routes for hash lists: import a CSV, list what is imported (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from kabar.http.deps import Authenticated, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.moderation.hash_import import HashListInfo

router = APIRouter(prefix="/v1/admin/hash-lists", tags=["admin"], responses=ERROR_RESPONSES)

CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A hash list: CSV with the header type,value,list,action "
        "(docs/moderation.md § 4), UTF-8, at most limits.request_max_bytes.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


class HashListOut(BaseModel):
    id: str
    name: str
    action: str
    entries: int
    enabled: bool
    created_at: int
    updated_at: int


class LineErrorOut(BaseModel):
    line: int
    message: str


class ImportOut(BaseModel):
    imported: int
    duplicates: int
    refused: int
    errors: list[LineErrorOut]
    lists: list[HashListOut]


class HashListsOut(BaseModel):
    lists: list[HashListOut]


def _out(info: HashListInfo) -> HashListOut:
    return HashListOut(
        id=info.id,
        name=info.name,
        action=info.action,
        entries=info.entries,
        enabled=info.enabled,
        created_at=info.created_at,
        updated_at=info.updated_at,
    )


@router.post("/import", summary="Import a CSV hash list", openapi_extra=CSV_BODY)
async def import_hash_list(request: Request, principal: Authenticated, svc: Svc) -> ImportOut:
    """Good rows are stored (hashes already listed count as duplicates); refused lines are
    reported. A file whose header cannot be read is refused: 400 ``invalid_hash_list``."""
    report = await svc.hash_lists.import_csv(principal, await request.body())
    return ImportOut(
        imported=report.imported,
        duplicates=report.duplicates,
        refused=report.refused,
        errors=[LineErrorOut(line=e.line, message=e.message) for e in report.errors],
        lists=[_out(i) for i in report.lists],
    )


@router.get("", summary="The imported hash lists")
async def hash_lists(principal: Authenticated, svc: Svc) -> HashListsOut:
    return HashListsOut(lists=[_out(i) for i in await svc.hash_lists.lists(principal)])
