"""Routes for the server-side key backup: opaque versions and per-session blobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from kabar.http.deps import Authenticated, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.keys.backup import PAGE_MAX, SESSIONS_PER_UPLOAD, BackedUpSession

router = APIRouter(prefix="/v1/backup", tags=["key backup"], responses=ERROR_RESPONSES)

VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
ConversationId = Annotated[str, Field(min_length=1, max_length=40)]
SessionId = Annotated[str, Field(min_length=1, max_length=128)]


class VersionIn(BaseModel):
    data: dict[str, Any] = Field(description="the client's public version record, kept verbatim")


class VersionCreated(BaseModel):
    version: int


class VersionOut(BaseModel):
    version: int
    data: dict[str, Any]
    created_at: int
    sessions: int


class SessionIn(BaseModel):
    conversation_id: ConversationId
    session_id: SessionId
    first_known_index: Annotated[int, Field(ge=0, le=2**32)]
    data: dict[str, Any] = Field(description="opaque: encrypted to the user's recovery key")


class SessionsIn(BaseModel):
    sessions: Annotated[list[SessionIn], Field(max_length=SESSIONS_PER_UPLOAD)]


class SessionsStored(BaseModel):
    stored: int = Field(description="blobs kept (new, or improving on the stored copy)")
    count: int = Field(description="sessions now in this version")


class SessionOut(BaseModel):
    conversation_id: str
    session_id: str
    first_known_index: int
    data: dict[str, Any]


class SessionPageOut(BaseModel):
    sessions: list[SessionOut]
    next: dict[str, str] | None = Field(
        description="pass as after_conversation/after_session for the next page"
    )


def _out(s: BackedUpSession) -> SessionOut:
    return SessionOut(
        conversation_id=s.conversation_id,
        session_id=s.session_id,
        first_known_index=s.first_known_index,
        data=s.data,
    )


@router.post(
    "/versions", status_code=201, summary="Start a new backup version (replaces the old one)"
)
async def create_version(body: VersionIn, principal: Authenticated, svc: Svc) -> VersionCreated:
    return VersionCreated(version=await svc.backup.create_version(principal, body.data))


@router.get("/versions/current", summary="The current backup version record")
async def current_version(principal: Authenticated, svc: Svc) -> VersionOut:
    info = await svc.backup.current(principal)
    return VersionOut(
        version=info.version, data=info.data, created_at=info.created_at, sessions=info.sessions
    )


@router.put(
    "/versions/{version}/sessions",
    summary="Store session blobs (kept only if they decrypt at least as much as the stored one)",
)
async def put_sessions(
    version: VersionPath, body: SessionsIn, principal: Authenticated, svc: Svc
) -> SessionsStored:
    sessions = [
        BackedUpSession(s.conversation_id, s.session_id, s.first_known_index, s.data)
        for s in body.sessions
    ]
    stored, count = await svc.backup.put_sessions(principal, version, sessions)
    return SessionsStored(stored=stored, count=count)


@router.get("/versions/{version}/sessions", summary="Page through the backed-up sessions")
async def list_sessions(
    version: VersionPath,
    principal: Authenticated,
    svc: Svc,
    conversation_id: Annotated[str | None, Query(max_length=40)] = None,
    after_conversation: Annotated[str | None, Query(max_length=40)] = None,
    after_session: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 500,
) -> SessionPageOut:
    after = (after_conversation, after_session or "") if after_conversation else None
    page = await svc.backup.sessions(principal, version, after, limit, conversation_id)
    following = (
        {"after_conversation": page.next[0], "after_session": page.next[1]} if page.next else None
    )
    return SessionPageOut(sessions=[_out(s) for s in page.sessions], next=following)


@router.get(
    "/versions/{version}/sessions/{conversation_id}/{session_id:path}",
    summary="One backed-up session",
)
async def get_session(
    version: VersionPath,
    conversation_id: Annotated[str, Path(min_length=1, max_length=40)],
    session_id: Annotated[str, Path(min_length=1, max_length=128)],
    principal: Authenticated,
    svc: Svc,
) -> SessionOut:
    return _out(await svc.backup.session(principal, version, conversation_id, session_id))
