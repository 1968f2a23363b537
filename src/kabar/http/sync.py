"""Routes for sync (long-poll) and to-device messages."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from kabar.accounts.models import Principal
from kabar.delivery.sync import SyncPage
from kabar.http.conversations import Event
from kabar.http.deps import Authenticated, AuthenticatedCaller, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.ids import decode_token, encode_token
from kabar.keys.service import KeyCounts
from kabar.services import Services

router = APIRouter(prefix="/v1", tags=["sync"], responses=ERROR_RESPONSES)
JSON = "application/json"


class ToDeviceMessage(BaseModel):
    type: str
    sender: str | None = None
    sender_id: str
    sender_device: str
    ts: int
    content: dict[str, Any]


class SyncOut(BaseModel):
    next: str = Field(description="pass as `since` next time")
    events: list[Event]
    to_device: list[ToDeviceMessage]
    more: bool = Field(description="true if the server has more right now: sync again at once")
    one_time_key_count: int
    fallback_key_unused: bool


class ToDeviceRequest(BaseModel):
    txn_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._~-]+$")]
    type: Annotated[str, Field(min_length=1, max_length=64, examples=["kabar.olm.v1"])]
    messages: Annotated[
        dict[Annotated[str, Field(min_length=1, max_length=40)], dict[str, Any]],
        Field(description="device id → opaque payload"),
    ]


class ToDeviceOut(BaseModel):
    sent: int
    unknown_devices: list[str]
    full_devices: list[str] = Field(
        default=[], description="devices whose queue is full (they have not synced): retry later"
    )
    duplicate: bool


def sync_body(page: SyncPage, counts: KeyCounts) -> bytes:
    return b"".join(
        (
            b'{"next":"',
            encode_token(page.next_pos).encode(),
            b'","events":[',
            b",".join(page.events),
            b'],"to_device":[',
            b",".join(page.to_device),
            b'],"more":',
            b"true" if page.more else b"false",
            b',"one_time_key_count":',
            str(counts.one_time_keys).encode(),
            b',"fallback_key_unused":',
            json.dumps(counts.fallback_unused).encode(),
            b"}",
        )
    )


@router.get(
    "/sync",
    summary="Every event for this device after `since`; long-polls up to `timeout` ms when none",
    response_model=SyncOut,
)
async def sync(
    principal: Authenticated,
    svc: Svc,
    since: Annotated[
        str | None, Query(max_length=24, description="the `next` of the previous sync")
    ] = None,
    timeout: Annotated[  # noqa: ASYNC109 - the query parameter of the API
        int, Query(ge=0, le=300_000, description="milliseconds to wait when empty")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Response:
    # kabar.http.hot answers this route too, through the same function.
    return Response(await sync_page(svc, principal, since, timeout, limit), media_type=JSON)


async def sync_page(
    svc: Services, principal: Principal, since: str | None, timeout_ms: int, limit: int
) -> bytes:
    """One sync (long-polling up to ``timeout_ms``); the answer's body (a :class:`SyncOut`)."""
    after = decode_token(since)
    timeout_ms = min(timeout_ms, svc.config.stream.long_poll_max_ms)
    page = await svc.sync.sync(principal.account_id, principal.device_id, after, timeout_ms, limit)
    counts = await svc.keys.counts(principal.device_id)
    return sync_body(page, counts)


class PositionOut(BaseModel):
    next: str = Field(description="a `since` that skips everything committed so far")


@router.get(
    "/sync/position",
    summary="The current stream position: a new device's first `since` if it wants no replay",
)
async def sync_position(_: Authenticated, svc: Svc) -> PositionOut:
    return PositionOut(next=encode_token(await svc.sync.current_position()))


@router.post("/to-device", summary="Send opaque payloads to many devices (idempotent on txn_id)")
async def send_to_device(
    body: ToDeviceRequest, caller: AuthenticatedCaller, svc: Svc
) -> ToDeviceOut:
    result = await svc.to_device.send(
        caller.principal, body.txn_id, body.type, body.messages, caller.address
    )
    return ToDeviceOut(
        sent=result.sent,
        unknown_devices=result.unknown_devices,
        full_devices=result.full_devices,
        duplicate=result.duplicate,
    )
