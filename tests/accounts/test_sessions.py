"""Registration, login, devices, passwords and deactivation through the HTTP API."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from support.api import PASSWORD, Api, ApiError, unique_name
from support.waiting import until


async def test_register_logs_in_a_first_device(api: Api) -> None:
    user = await api.register()
    me = await api.call("GET", "/v1/account", user)
    assert me["username"] == user.username
    assert me["status"] == "active"
    devices = (await api.call("GET", "/v1/devices", user))["devices"]
    assert [d["device_id"] for d in devices] == [user.device_id]
    assert devices[0]["current"] is True


async def test_usernames_are_case_folded_and_unique(api: Api) -> None:
    name = unique_name("Case")
    await api.register(name)
    with pytest.raises(ApiError) as taken:
        await api.register(name.upper())
    assert taken.value.status == 409
    assert taken.value.code == "username_unavailable"
    user = await api.login(name.lower())
    assert user.username == name.lower()


@pytest.mark.parametrize("bad", ["ab", "has space", "x" * 33, "émile", "semi;colon"])
async def test_invalid_usernames_are_refused(api: Api, bad: str) -> None:
    with pytest.raises(ApiError) as error:
        await api.register(bad)
    assert (error.value.status, error.value.code) == (400, "invalid_username")


async def test_short_passwords_are_refused(api: Api) -> None:
    with pytest.raises(ApiError) as error:
        await api.register(password="short")
    assert (error.value.status, error.value.code) == (400, "weak_password")


async def test_each_login_creates_a_device_with_its_own_token(api: Api) -> None:
    first = await api.register()
    second = await api.login(first.username)
    assert second.device_id != first.device_id
    assert second.token != first.token
    devices = (await api.call("GET", "/v1/devices", second))["devices"]
    assert {d["device_id"] for d in devices} == {first.device_id, second.device_id}
    assert [d["current"] for d in devices if d["device_id"] == second.device_id] == [True]


async def test_login_failures_do_not_reveal_whether_an_account_exists(api: Api) -> None:
    user = await api.register()
    with pytest.raises(ApiError) as wrong_password:
        await api.login(user.username, "not the password")
    with pytest.raises(ApiError) as no_such_user:
        await api.login(unique_name("ghost"), "not the password")
    assert wrong_password.value.status == no_such_user.value.status == 401
    assert wrong_password.value.body["detail"] == no_such_user.value.body["detail"]
    assert wrong_password.value.code == no_such_user.value.code == "invalid_credentials"


async def test_tokens_are_stored_only_as_hashes(api: Api, server) -> None:  # noqa: ANN001
    user = await api.register()
    from sqlalchemy import text

    async with server.services.database.read() as conn:
        rows = (await conn.execute(text("SELECT token_hash FROM devices"))).all()
    assert user.token not in {r[0] for r in rows}
    assert len(rows[0][0]) == 64


async def test_logout_stops_the_token(api: Api) -> None:
    user = await api.register()
    await api.call("DELETE", "/v1/sessions/current", user)
    with pytest.raises(ApiError) as error:
        await api.call("GET", "/v1/account", user)
    assert error.value.status == 401


async def test_revoking_a_device_stops_its_token_and_closes_its_stream_within_a_second(
    api: Api,
) -> None:
    laptop = await api.register()
    phone = await api.login(laptop.username)
    ws = await api.stream(phone)
    ready = json.loads(await ws.recv())
    assert ready["type"] == "ready"
    started = time.monotonic()
    await api.call("DELETE", f"/v1/devices/{phone.device_id}", laptop)
    closed = await _wait_closed(ws)
    assert time.monotonic() - started < 1.0
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4001
    with pytest.raises(ApiError) as error:
        await api.call("GET", "/v1/account", phone)
    assert error.value.status == 401
    assert [d["device_id"] for d in (await api.call("GET", "/v1/devices", laptop))["devices"]] == [
        laptop.device_id
    ]


async def test_a_device_of_another_account_cannot_be_revoked(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    with pytest.raises(ApiError) as error:
        await api.call("DELETE", f"/v1/devices/{bob.device_id}", alice)
    assert (error.value.status, error.value.code) == (404, "device_not_found")
    await api.call("GET", "/v1/account", bob)


async def test_changing_the_password_can_sign_out_other_devices(api: Api) -> None:
    here = await api.register()
    other = await api.login(here.username)
    result = await api.call(
        "POST",
        "/v1/account/password",
        here,
        json={
            "current_password": PASSWORD,
            "new_password": "a new long password",
            "revoke_other_devices": True,
        },
    )
    assert result == {"revoked_devices": 1}
    with pytest.raises(ApiError):
        await api.call("GET", "/v1/account", other)
    await api.call("GET", "/v1/account", here)
    with pytest.raises(ApiError):
        await api.login(here.username)
    await api.login(here.username, "a new long password")


async def test_changing_the_password_needs_the_current_one(api: Api) -> None:
    user = await api.register()
    with pytest.raises(ApiError) as error:
        await api.call(
            "POST",
            "/v1/account/password",
            user,
            json={"current_password": "wrong password", "new_password": "a new long password"},
        )
    assert error.value.code == "invalid_credentials"


async def test_deactivation_signs_out_everywhere_and_keeps_the_name(api: Api) -> None:
    user = await api.register()
    other = await api.login(user.username)
    friend = await api.register()
    conversation = await api.direct(friend, user)
    await api.call("POST", "/v1/account/deactivate", user, json={"password": PASSWORD})
    for device in (user, other):
        with pytest.raises(ApiError) as error:
            await api.call("GET", "/v1/account", device)
        assert error.value.status == 401
    with pytest.raises(ApiError) as login:
        await api.login(user.username)
    assert login.value.code == "invalid_credentials"
    with pytest.raises(ApiError) as again:
        await api.register(user.username)
    assert again.value.code == "username_unavailable"
    members = (await api.call("GET", f"/v1/conversations/{conversation}", friend))["members"]
    assert [m["username"] for m in members] == [friend.username]


async def test_suspension_stops_tokens_and_closes_streams(api: Api, server) -> None:  # noqa: ANN001
    from kabar.accounts.models import Status

    user = await api.register()
    ws = await api.stream(user)
    assert json.loads(await ws.recv())["type"] == "ready"
    await server.services.accounts.set_status(user.account_id, Status.SUSPENDED)
    closed = await _wait_closed(ws)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4003
    with pytest.raises(ApiError) as error:
        await api.call("GET", "/v1/account", user)
    assert (error.value.status, error.value.code) == (403, "account_suspended")
    with pytest.raises(ApiError) as login:
        await api.login(user.username)
    assert login.value.code == "account_suspended"


async def test_profiles_need_a_token_and_hide_deactivated_accounts(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    profile = await api.call("GET", f"/v1/accounts/{bob.username}", alice)
    assert profile == {"username": bob.username, "display_name": bob.username}
    with pytest.raises(ApiError) as anonymous:
        await api.call("GET", f"/v1/accounts/{bob.username}")
    assert anonymous.value.status == 401


async def _wait_closed(ws: ClientConnection) -> ConnectionClosed:
    """Read until the server closes the stream; fail if it stays open for a second."""
    while True:
        try:
            await asyncio.wait_for(ws.recv(), 1.0)
        except ConnectionClosed as closed:
            return closed


async def test_a_stream_closed_by_the_client_ends_its_server_handler_at_once(
    make_server,  # noqa: ANN001
) -> None:
    # A long heartbeat: the server must notice the close without waiting for one.
    async with make_server(stream={"heartbeat_seconds": 60.0}) as server:
        api = Api(server.base_url)
        try:
            user = await api.register()
            ws = await api.stream(user)
            assert json.loads(await ws.recv())["type"] == "ready"
            hub = server.services.hub
            assert hub._by_device.get(user.device_id)
            await ws.close()
            await until(lambda: not hub._by_device.get(user.device_id), seconds=2)
        finally:
            await api.close()
