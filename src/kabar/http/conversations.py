"""Routes for conversations: create, membership, roles, messages and history."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kabar.conversations.service import ConversationInfo, Envelope
from kabar.http.deps import Authenticated, AuthenticatedCaller, Caller, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.services import Services

router = APIRouter(prefix="/v1/conversations", tags=["conversations"], responses=ERROR_RESPONSES)

ConversationIdPath = Annotated[str, Path(min_length=1, max_length=40)]
UsernamePath = Annotated[str, Path(min_length=1, max_length=64)]
TxnIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._~-]+$")]
Username = Annotated[str, Field(min_length=1, max_length=64)]
Title = Annotated[str, Field(min_length=1, max_length=200)]


class DirectRequest(BaseModel):
    username: Username


class GroupRequest(BaseModel):
    title: Title
    members: Annotated[list[Username], Field(max_length=1000)] = []


class TitleUpdate(BaseModel):
    title: Title


class MembersAdd(BaseModel):
    usernames: Annotated[list[Username], Field(min_length=1, max_length=1000)]


class MembersAdded(BaseModel):
    added: list[str]


class RoleUpdate(BaseModel):
    role: Annotated[str, Field(min_length=1, max_length=16, examples=["admin"])]


class MemberOut(BaseModel):
    account_id: str
    username: str
    display_name: str
    role: str


class ConversationOut(BaseModel):
    conversation_id: str
    kind: str
    title: str | None
    created_at: int
    last_seq: int
    member_count: int
    my_role: str
    members: list[MemberOut] | None = None

    @classmethod
    def of(cls, info: ConversationInfo) -> ConversationOut:
        data = dataclasses.asdict(info)
        return cls(**data)


class ConversationList(BaseModel):
    conversations: list[ConversationOut]


class EnvelopeIn(BaseModel):
    """An end-to-end encrypted message, opaque to the server (at most 64 KiB)."""

    algorithm: Annotated[str, Field(min_length=1, max_length=64, examples=["kabar.megolm.v1"])]
    ciphertext: Annotated[str, Field(min_length=1, max_length=1_000_000)]
    session_id: Annotated[str | None, Field(max_length=128)] = None
    sender_key: Annotated[str | None, Field(max_length=64)] = None
    franking_commitment: Annotated[str | None, Field(max_length=64)] = None


class SentOut(BaseModel):
    event_id: str
    seq: int
    token: str
    ts: int
    franking_tag: str | None = None
    duplicate: bool


class Event(BaseModel):
    """A stream event; ``content`` depends on ``type`` (see docs/api.md)."""

    event_id: str
    type: str
    conversation_id: str | None = None
    seq: int | None = None
    sender: str | None = None
    sender_id: str | None = None
    sender_device: str | None = None
    txn_id: str | None = None
    ts: int
    franking_tag: str | None = None
    content: dict[str, Any]


class HistoryOut(BaseModel):
    events: list[Event]
    next_before: int | None


@router.get("", summary="Conversations the account is in")
async def list_conversations(principal: Authenticated, svc: Svc) -> ConversationList:
    infos = await svc.conversations.mine(principal)
    return ConversationList(conversations=[ConversationOut.of(i) for i in infos])


@router.post("/direct", summary="Open (or reopen) the direct conversation with an account")
async def open_direct(body: DirectRequest, principal: Authenticated, svc: Svc) -> ConversationOut:
    conversation_id, _ = await svc.conversations.open_direct(principal, body.username)
    return ConversationOut.of(await svc.conversations.get(principal, conversation_id))


@router.post("/groups", status_code=201, summary="Create a group; the creator is its owner")
async def create_group(body: GroupRequest, principal: Authenticated, svc: Svc) -> ConversationOut:
    conversation_id = await svc.conversations.create_group(principal, body.title, body.members)
    return ConversationOut.of(await svc.conversations.get(principal, conversation_id))


@router.get("/{conversation_id}", summary="A conversation with its members")
async def get_conversation(
    conversation_id: ConversationIdPath, principal: Authenticated, svc: Svc
) -> ConversationOut:
    return ConversationOut.of(await svc.conversations.get(principal, conversation_id))


@router.patch("/{conversation_id}", summary="Rename a group (admins)")
async def rename(
    conversation_id: ConversationIdPath, body: TitleUpdate, principal: Authenticated, svc: Svc
) -> ConversationOut:
    await svc.conversations.rename(principal, conversation_id, body.title)
    return ConversationOut.of(await svc.conversations.get(principal, conversation_id))


@router.post("/{conversation_id}/members", summary="Add members to a group (admins)")
async def add_members(
    conversation_id: ConversationIdPath, body: MembersAdd, principal: Authenticated, svc: Svc
) -> MembersAdded:
    added = await svc.conversations.add_members(principal, conversation_id, body.usernames)
    return MembersAdded(added=added)


@router.delete(
    "/{conversation_id}/members/{username}", status_code=204, summary="Remove a member (admins)"
)
async def remove_member(
    conversation_id: ConversationIdPath, username: UsernamePath, principal: Authenticated, svc: Svc
) -> Response:
    await svc.conversations.remove_member(principal, conversation_id, username)
    return Response(status_code=204)


@router.put(
    "/{conversation_id}/members/{username}/role", status_code=204, summary="Change a role (owner)"
)
async def set_role(
    conversation_id: ConversationIdPath,
    username: UsernamePath,
    body: RoleUpdate,
    principal: Authenticated,
    svc: Svc,
) -> Response:
    await svc.conversations.set_role(principal, conversation_id, username, body.role)
    return Response(status_code=204)


@router.post("/{conversation_id}/leave", status_code=204, summary="Leave a conversation")
async def leave(
    conversation_id: ConversationIdPath, principal: Authenticated, svc: Svc
) -> Response:
    await svc.conversations.leave(principal, conversation_id)
    return Response(status_code=204)


@router.put(
    "/{conversation_id}/messages/{txn_id}",
    summary="Send an encrypted message (idempotent on the device's txn_id)",
    response_model=SentOut,
)
async def send_message(
    conversation_id: ConversationIdPath,
    txn_id: TxnIdPath,
    body: EnvelopeIn,
    caller: AuthenticatedCaller,
    svc: Svc,
) -> JSONResponse:
    # The hottest route: answer with a plain dict, skipping response-model validation.
    # kabar.http.hot answers it too, through the same function.
    return JSONResponse(await send_envelope(svc, caller, conversation_id, txn_id, body))


async def send_envelope(
    svc: Services, caller: Caller, conversation_id: str, txn_id: str, body: EnvelopeIn
) -> dict[str, Any]:
    """Send one message; the answer's body (a :class:`SentOut`)."""
    sent = await svc.conversations.send(
        caller.principal,
        conversation_id,
        txn_id,
        Envelope(
            algorithm=body.algorithm,
            ciphertext=body.ciphertext,
            session_id=body.session_id,
            sender_key=body.sender_key,
            franking_commitment=body.franking_commitment,
        ),
        caller.address,
    )
    event = sent.event
    return {
        "event_id": event.event_id,
        "seq": event.seq or 0,
        "token": f"s{event.pos}",
        "ts": event.ts,
        "franking_tag": event.franking_tag,
        "duplicate": sent.duplicate,
    }


@router.delete(
    "/{conversation_id}/messages/{event_id}",
    status_code=204,
    summary="Delete a message for everyone (its sender, or a group admin): leaves a tombstone",
)
async def delete_message(
    conversation_id: ConversationIdPath,
    event_id: Annotated[str, Path(min_length=1, max_length=40)],
    principal: Authenticated,
    svc: Svc,
) -> Response:
    await svc.conversations.delete_message(principal, conversation_id, event_id)
    return Response(status_code=204)


@router.get(
    "/{conversation_id}/messages",
    summary="History, newest first, paging backwards by seq",
    response_model=HistoryOut,
)
async def history(
    conversation_id: ConversationIdPath,
    principal: Authenticated,
    svc: Svc,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="only events with seq < before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    page = await svc.conversations.history(principal, conversation_id, before, limit)
    body = (
        b'{"events":['
        + b",".join(page.events)
        + b'],"next_before":'
        + json.dumps(page.next_before).encode()
        + b"}"
    )
    return Response(body, media_type="application/json")
