"""Routes for accounts, sessions (devices) and passwords."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from kabar.http.deps import Address, Authenticated, Svc
from kabar.http.problems import ERROR_RESPONSES

router = APIRouter(prefix="/v1", tags=["accounts"], responses=ERROR_RESPONSES)

Username = Annotated[str, Field(min_length=1, max_length=64, examples=["alice"])]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
DeviceIdPath = Annotated[str, Path(min_length=1, max_length=40)]


class RegisterRequest(BaseModel):
    username: Username
    password: Password
    display_name: Annotated[str | None, Field(max_length=100)] = None
    device_name: Annotated[str | None, Field(max_length=100)] = None


class LoginRequest(BaseModel):
    username: Username
    password: Password
    device_name: Annotated[str | None, Field(max_length=100)] = None


class SessionOut(BaseModel):
    account_id: str
    username: str
    device_id: str
    access_token: str


class AccountOut(BaseModel):
    account_id: str
    username: str
    display_name: str
    role: str
    status: str
    created_at: int


class ProfileOut(BaseModel):
    username: str
    display_name: str


class ProfileUpdate(BaseModel):
    display_name: Annotated[str, Field(min_length=1, max_length=100)]


class DeviceOut(BaseModel):
    device_id: str
    display_name: str
    created_at: int
    last_seen_at: int
    has_keys: bool
    ed25519: str | None
    current: bool


class DeviceList(BaseModel):
    devices: list[DeviceOut]


class DeviceUpdate(BaseModel):
    display_name: Annotated[str, Field(min_length=1, max_length=100)]


class PasswordChange(BaseModel):
    current_password: Password
    new_password: Password
    revoke_other_devices: bool = False


class PasswordChanged(BaseModel):
    revoked_devices: int


class Deactivate(BaseModel):
    password: Password


@router.post("/accounts", status_code=201, summary="Register an account and its first device")
async def register(body: RegisterRequest, address: Address, svc: Svc) -> SessionOut:
    session = await svc.accounts.register(
        body.username, body.password, body.display_name, body.device_name, address
    )
    return SessionOut(**dataclasses.asdict(session))


@router.post("/sessions", summary="Log in: creates a new device with its own access token")
async def login(body: LoginRequest, address: Address, svc: Svc) -> SessionOut:
    session = await svc.accounts.login(body.username, body.password, body.device_name, address)
    return SessionOut(**dataclasses.asdict(session))


@router.delete("/sessions/current", status_code=204, summary="Log out this device")
async def logout(principal: Authenticated, svc: Svc) -> Response:
    await svc.accounts.logout(principal)
    return Response(status_code=204)


@router.get("/account", summary="The signed-in account")
async def me(principal: Authenticated, svc: Svc) -> AccountOut:
    return AccountOut(**dataclasses.asdict(await svc.accounts.me(principal)))


@router.patch("/account", summary="Change the display name")
async def update_me(body: ProfileUpdate, principal: Authenticated, svc: Svc) -> AccountOut:
    info = await svc.accounts.update_profile(principal, body.display_name)
    return AccountOut(**dataclasses.asdict(info))


@router.post(
    "/account/password", summary="Change the password, optionally signing out other devices"
)
async def change_password(
    body: PasswordChange, principal: Authenticated, svc: Svc
) -> PasswordChanged:
    revoked = await svc.accounts.change_password(
        principal, body.current_password, body.new_password, body.revoke_other_devices
    )
    return PasswordChanged(revoked_devices=revoked)


@router.post("/account/deactivate", status_code=204, summary="Deactivate the account for good")
async def deactivate(body: Deactivate, principal: Authenticated, svc: Svc) -> Response:
    await svc.accounts.deactivate(principal, body.password)
    return Response(status_code=204)


@router.get("/accounts/{username}", summary="A public profile")
async def profile(
    username: Annotated[str, Path(min_length=1, max_length=64)], _: Authenticated, svc: Svc
) -> ProfileOut:
    info = await svc.accounts.profile(username)
    return ProfileOut(username=info.username, display_name=info.display_name)


@router.get("/devices", summary="This account's devices")
async def list_devices(principal: Authenticated, svc: Svc) -> DeviceList:
    devices = await svc.accounts.devices(principal)
    return DeviceList(devices=[DeviceOut(**dataclasses.asdict(d)) for d in devices])


@router.patch("/devices/{device_id}", status_code=204, summary="Rename a device")
async def rename_device(
    device_id: DeviceIdPath, body: DeviceUpdate, principal: Authenticated, svc: Svc
) -> Response:
    await svc.accounts.rename_device(principal, device_id, body.display_name)
    return Response(status_code=204)


@router.delete("/devices/{device_id}", status_code=204, summary="Revoke a device (signs it out)")
async def revoke_device(device_id: DeviceIdPath, principal: Authenticated, svc: Svc) -> Response:
    await svc.accounts.revoke_device(principal, device_id)
    return Response(status_code=204)
