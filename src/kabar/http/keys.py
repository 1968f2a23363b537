"""Routes for the end-to-end key directory."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from kabar.http.deps import Authenticated, AuthenticatedCaller, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.keys.service import SignedKey

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERROR_RESPONSES)

Key = Annotated[str, Field(min_length=1, max_length=64)]
Signature = Annotated[str, Field(min_length=1, max_length=128)]


class IdentityKeys(BaseModel):
    curve25519: Key
    ed25519: Key
    signature: Signature


class SignedKeyIn(BaseModel):
    key_id: Annotated[str, Field(min_length=1, max_length=64)]
    key: Key
    signature: Signature


class KeyUpload(BaseModel):
    one_time_keys: Annotated[list[SignedKeyIn], Field(max_length=200)] = []
    fallback_key: SignedKeyIn | None = None


class KeyCountsOut(BaseModel):
    one_time_key_count: int
    fallback_key_unused: bool


class KeyQuery(BaseModel):
    usernames: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=1000)
    ]


class DeviceKeysOut(BaseModel):
    device_id: str
    account_id: str
    display_name: str
    curve25519: str
    ed25519: str
    signature: str


class KeyQueryResult(BaseModel):
    accounts: dict[str, list[DeviceKeysOut]]


class KeyClaim(BaseModel):
    devices: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=1000)
    ]


class ClaimedKeyOut(BaseModel):
    key_id: str
    key: str
    signature: str
    fallback: bool


class KeyClaimResult(BaseModel):
    keys: dict[str, ClaimedKeyOut]
    unavailable: list[str]


def _signed(key: SignedKeyIn) -> SignedKey:
    return SignedKey(key_id=key.key_id, key=key.key, signature=key.signature)


@router.put("/identity", status_code=204, summary="Publish this device's identity keys (once)")
async def upload_identity(body: IdentityKeys, principal: Authenticated, svc: Svc) -> Response:
    await svc.keys.upload_identity(principal, body.curve25519, body.ed25519, body.signature)
    return Response(status_code=204)


@router.post("/one-time", summary="Upload signed one-time keys and/or a signed fallback key")
async def upload_keys(body: KeyUpload, principal: Authenticated, svc: Svc) -> KeyCountsOut:
    fallback = _signed(body.fallback_key) if body.fallback_key else None
    counts = await svc.keys.upload_keys(
        principal, [_signed(k) for k in body.one_time_keys], fallback
    )
    return KeyCountsOut(
        one_time_key_count=counts.one_time_keys, fallback_key_unused=counts.fallback_unused
    )


@router.get("/count", summary="This device's remaining one-time keys")
async def key_count(principal: Authenticated, svc: Svc) -> KeyCountsOut:
    counts = await svc.keys.counts(principal.device_id)
    return KeyCountsOut(
        one_time_key_count=counts.one_time_keys, fallback_key_unused=counts.fallback_unused
    )


@router.post("/query", summary="Devices and identity keys of a set of accounts")
async def query_keys(body: KeyQuery, _: Authenticated, svc: Svc) -> KeyQueryResult:
    found = await svc.keys.query(body.usernames)
    return KeyQueryResult(
        accounts={
            name: [
                DeviceKeysOut(**{k: v for k, v in dataclasses.asdict(d).items() if k != "username"})
                for d in devices
            ]
            for name, devices in found.items()
        }
    )


@router.post("/claim", summary="Claim one key per device: a one-time key, else the fallback key")
async def claim_keys(body: KeyClaim, caller: AuthenticatedCaller, svc: Svc) -> KeyClaimResult:
    claimed = await svc.keys.claim(caller.principal, body.devices, caller.address)
    return KeyClaimResult(
        keys={
            d: ClaimedKeyOut(key_id=k.key_id, key=k.key, signature=k.signature, fallback=k.fallback)
            for d, k in claimed.items()
        },
        unavailable=[d for d in dict.fromkeys(body.devices) if d not in claimed],
    )
