"""Routes for public accounts: create, profile, avatar, members, verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from kabar.http.deps import Authenticated, MaybeAuthenticated, Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.http.public_schemas import HandlePath, PublicAccountOut
from kabar.public.models import Member

router = APIRouter(prefix="/v1/public", tags=["public accounts"], responses=ERROR_RESPONSES)

UsernamePath = Annotated[str, Path(min_length=1, max_length=64)]
IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The image file itself (JPEG, PNG, WebP or GIF).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class PublicAccountCreate(BaseModel):
    handle: Annotated[str, Field(min_length=1, max_length=64, examples=["daily_news"])]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: Annotated[str, Field(max_length=16, examples=["media"])]
    bio: Annotated[str, Field(max_length=1000)] = ""


class PublicAccountUpdate(BaseModel):
    name: Annotated[str | None, Field(max_length=100)] = None
    bio: Annotated[str | None, Field(max_length=1000)] = None
    kind: Annotated[str | None, Field(max_length=16)] = None


class MemberOut(BaseModel):
    username: str
    display_name: str
    role: str
    added_at: int


class MemberList(BaseModel):
    members: list[MemberOut]

    @classmethod
    def of(cls, members: list[Member]) -> MemberList:
        return cls(
            members=[
                MemberOut(
                    username=m.username,
                    display_name=m.display_name,
                    role=m.role,
                    added_at=m.added_at,
                )
                for m in members
            ]
        )


class MemberPut(BaseModel):
    role: Annotated[str, Field(max_length=16, examples=["editor"])]


class VerificationIn(BaseModel):
    note: Annotated[str, Field(min_length=1, max_length=1000)]


class PublicAccountList(BaseModel):
    accounts: list[PublicAccountOut]


@router.post("/accounts", status_code=201, summary="Create a public account (you become its owner)")
async def create_account(
    body: PublicAccountCreate, principal: Authenticated, svc: Svc
) -> PublicAccountOut:
    account = await svc.public_accounts.create(
        principal, body.handle, body.name, body.kind, body.bio
    )
    return PublicAccountOut.of(account)


@router.get("/memberships", summary="Public accounts you own or edit")
async def my_accounts(principal: Authenticated, svc: Svc) -> PublicAccountList:
    accounts = await svc.public_accounts.mine(principal)
    return PublicAccountList(accounts=[PublicAccountOut.of(a) for a in accounts])


@router.get("/accounts/{handle}", summary="A public account's profile (no sign-in needed)")
async def get_account(handle: HandlePath, viewer: MaybeAuthenticated, svc: Svc) -> PublicAccountOut:
    return PublicAccountOut.of(await svc.public_accounts.get(handle, viewer))


@router.patch("/accounts/{handle}", summary="Edit the profile (owners)")
async def update_account(
    handle: HandlePath, body: PublicAccountUpdate, principal: Authenticated, svc: Svc
) -> PublicAccountOut:
    account = await svc.public_accounts.update_profile(
        principal, handle, name=body.name, bio=body.bio, kind=body.kind
    )
    return PublicAccountOut.of(account)


@router.put(
    "/accounts/{handle}/avatar",
    summary="Upload a new avatar image (owners); the body is the image",
    openapi_extra=IMAGE_BODY,
)
async def put_avatar(
    handle: HandlePath, request: Request, principal: Authenticated, svc: Svc
) -> PublicAccountOut:
    await svc.public_accounts.check_owner(principal, handle)  # before the costly upload
    stored = await svc.media.upload_image(principal, await request.body(), handle=handle)
    account = await svc.public_accounts.update_profile(
        principal, handle, avatar_url=stored.best(320).path
    )
    return PublicAccountOut.of(account)


@router.delete("/accounts/{handle}/avatar", summary="Remove the avatar (owners)")
async def delete_avatar(handle: HandlePath, principal: Authenticated, svc: Svc) -> PublicAccountOut:
    account = await svc.public_accounts.update_profile(principal, handle, clear_avatar=True)
    return PublicAccountOut.of(account)


@router.get("/accounts/{handle}/members", summary="Owners and editors (members only)")
async def list_members(handle: HandlePath, principal: Authenticated, svc: Svc) -> MemberList:
    return MemberList.of(await svc.public_accounts.members(principal, handle))


@router.put(
    "/accounts/{handle}/members/{username}", summary="Add a member or change its role (owners)"
)
async def put_member(
    handle: HandlePath,
    username: UsernamePath,
    body: MemberPut,
    principal: Authenticated,
    svc: Svc,
) -> MemberList:
    return MemberList.of(
        await svc.public_accounts.put_member(principal, handle, username, body.role)
    )


@router.delete(
    "/accounts/{handle}/members/{username}",
    status_code=204,
    summary="Remove a member (owners), or leave (yourself)",
)
async def remove_member(
    handle: HandlePath, username: UsernamePath, principal: Authenticated, svc: Svc
) -> Response:
    await svc.public_accounts.remove_member(principal, handle, username)
    return Response(status_code=204)


@router.put("/accounts/{handle}/verification", summary="Verify the account (admins)")
async def verify(
    handle: HandlePath, body: VerificationIn, principal: Authenticated, svc: Svc
) -> PublicAccountOut:
    return PublicAccountOut.of(await svc.public_accounts.verify(principal, handle, body.note))


@router.delete("/accounts/{handle}/verification", summary="Withdraw verification (admins)")
async def unverify(handle: HandlePath, principal: Authenticated, svc: Svc) -> PublicAccountOut:
    return PublicAccountOut.of(await svc.public_accounts.unverify(principal, handle))
