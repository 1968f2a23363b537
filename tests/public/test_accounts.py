"""Public accounts through the API: profiles, members and roles, admin-only verification."""

from __future__ import annotations

import pytest

from kabar.accounts.models import Role
from support.api import Api, ApiError, User
from support.public import create_account, unique_handle
from support.server import RunningServer


async def make_admin(server: RunningServer, api: Api) -> User:
    admin = await api.register()
    await server.services.accounts.set_role(admin.account_id, Role.ADMIN)
    return admin


async def test_anyone_reads_a_new_account_and_its_creator_owns_it(api: Api) -> None:
    owner = await api.register()
    handle = unique_handle("Daily_")
    created = await create_account(api, owner, handle=f"@{handle}", bio="News, daily.")
    assert created["handle"] == handle.lower()
    assert created["my_role"] == "owner"
    public = await api.call("GET", f"/v1/public/accounts/{handle.upper()}")
    assert public["name"] == "A Public Voice"
    assert public["bio"] == "News, daily."
    assert public["kind"] == "media"
    assert public["url"].endswith(f"/@{handle.lower()}")
    assert public["verification"] is None
    assert public["my_role"] is None
    mine = await api.call("GET", "/v1/public/memberships", owner)
    assert [a["handle"] for a in mine["accounts"]] == [handle.lower()]


async def test_handles_are_unique_valid_and_not_reserved(api: Api) -> None:
    user = await api.register()
    taken = await create_account(api, user)
    with pytest.raises(ApiError) as caught:
        await create_account(api, await api.register(), handle=taken["handle"].upper())
    assert (caught.value.status, caught.value.code) == (409, "handle_unavailable")
    for bad in ("ab", "has space", "admin", "kabar", "ünïcode"):
        with pytest.raises(ApiError) as caught:
            await create_account(api, user, handle=bad)
        assert (caught.value.status, caught.value.code) == (400, "invalid_handle")
    with pytest.raises(ApiError) as caught:
        await create_account(api, user, kind="cult")
    assert caught.value.status == 400


async def test_only_owners_edit_the_profile(api: Api) -> None:
    owner, editor, stranger = [await api.register() for _ in range(3)]
    handle = (await create_account(api, owner))["handle"]
    await api.call(
        "PUT",
        f"/v1/public/accounts/{handle}/members/{editor.username}",
        owner,
        json={"role": "editor"},
    )
    for user, code in ((editor, "not_an_owner"), (stranger, "not_an_owner")):
        with pytest.raises(ApiError) as caught:
            await api.call("PATCH", f"/v1/public/accounts/{handle}", user, json={"name": "Mine"})
        assert (caught.value.status, caught.value.code) == (403, code)
    changed = await api.call(
        "PATCH",
        f"/v1/public/accounts/{handle}",
        owner,
        json={"name": "The Daily", "bio": "Every day.", "kind": "company"},
    )
    assert (changed["name"], changed["bio"], changed["kind"]) == (
        "The Daily",
        "Every day.",
        "company",
    )


async def test_owners_manage_members_and_an_account_always_keeps_an_owner(api: Api) -> None:
    owner, editor, stranger = [await api.register() for _ in range(3)]
    handle = (await create_account(api, owner))["handle"]
    path = f"/v1/public/accounts/{handle}/members"
    members = await api.call("PUT", f"{path}/{editor.username}", owner, json={"role": "editor"})
    assert {(m["username"], m["role"]) for m in members["members"]} == {
        (owner.username, "owner"),
        (editor.username, "editor"),
    }
    assert len((await api.call("GET", path, editor))["members"]) == 2
    with pytest.raises(ApiError) as caught:
        await api.call("GET", path, stranger)
    assert (caught.value.status, caught.value.code) == (403, "not_an_editor")
    with pytest.raises(ApiError) as caught:
        await api.call("PUT", f"{path}/{stranger.username}", editor, json={"role": "owner"})
    assert caught.value.code == "not_an_owner"
    for call in (
        api.call("DELETE", f"{path}/{owner.username}", owner),
        api.call("PUT", f"{path}/{owner.username}", owner, json={"role": "editor"}),
    ):
        with pytest.raises(ApiError) as caught:
            await call
        assert (caught.value.status, caught.value.code) == (409, "last_owner")
    with pytest.raises(ApiError) as caught:
        await api.call("PUT", f"{path}/{editor.username}", owner, json={"role": "boss"})
    assert caught.value.code == "invalid_role"
    await api.call("DELETE", f"{path}/{editor.username}", editor)  # an editor may leave
    assert [m["username"] for m in (await api.call("GET", path, owner))["members"]] == [
        owner.username
    ]


async def test_only_admins_verify_and_anyone_reads_who_when_and_why(
    api: Api, server: RunningServer
) -> None:
    owner = await api.register()
    admin = await make_admin(server, api)
    handle = (await create_account(api, owner, kind="government"))["handle"]
    path = f"/v1/public/accounts/{handle}/verification"
    with pytest.raises(ApiError) as caught:
        await api.call("PUT", path, owner, json={"note": "trust me"})
    assert (caught.value.status, caught.value.code) == (403, "insufficient_role")
    note = "Confirmed by a letter on city letterhead, 2025-03-01."
    await api.call("PUT", path, admin, json={"note": note})
    verification = (await api.call("GET", f"/v1/public/accounts/{handle}"))["verification"]
    assert verification["verified_by"] == admin.username
    assert verification["note"] == note
    assert verification["verified_at"] > 0
    with pytest.raises(ApiError) as caught:
        await api.call("DELETE", path, owner)
    assert caught.value.status == 403
    await api.call("DELETE", path, admin)
    assert (await api.call("GET", f"/v1/public/accounts/{handle}"))["verification"] is None


async def test_unknown_accounts_are_not_found(api: Api) -> None:
    for handle in ("nobody_here", "x"):
        with pytest.raises(ApiError) as caught:
            await api.call("GET", f"/v1/public/accounts/{handle}")
        assert (caught.value.status, caught.value.code) == (404, "public_account_not_found")
