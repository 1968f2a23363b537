"""Signing in to the moderation console: cookie, CSRF, roles, sign-out, ended sessions."""

from __future__ import annotations

from http.cookies import SimpleCookie

from kabar.accounts.models import Role, Status
from support.api import Api
from support.console import Console, assert_console_page, csrf_of, make_moderator
from support.server import RunningServer


def cookie_attributes(set_cookie: str) -> dict[str, str | bool]:
    parsed = SimpleCookie()
    parsed.load(set_cookie)
    morsel = next(iter(parsed.values()))
    attributes: dict[str, str | bool] = {k: v for k, v in morsel.items() if v}
    # SimpleCookie keeps the flags' presence as True/"" and the rest as strings.
    attributes["name"] = morsel.key
    return attributes


async def test_a_moderator_signs_in_with_a_strict_http_only_cookie_and_signs_out(
    server: RunningServer, api: Api
) -> None:
    moderator = await make_moderator(server, api)
    async with Console(server.base_url) as browser:
        first = await browser.get("/console")
        assert first.status_code == 303
        assert first.headers["location"] == "/console/login?next=/console"
        signed_in = await browser.login(moderator.username)
        assert signed_in.status_code == 303, signed_in.text[:300]
        assert signed_in.headers["location"] == "/console"
        session = next(
            cookie_attributes(value)
            for value in signed_in.headers.get_list("set-cookie")
            if value.startswith("kabar_console=")
        )
        assert session["path"] == "/console"
        assert session["httponly"] is True
        assert str(session["samesite"]).lower() == "strict"
        assert not session.get("secure")  # plain http here; https requests get Secure
        home = await browser.get("/console")
        page = assert_console_page(home)
        again_login = await browser.get("/console/login?next=/console/appeals")
        assert (again_login.status_code, again_login.headers["location"]) == (
            303,
            "/console/appeals",
        )
        elsewhere = await browser.get("/console/login?next=//evil.example/")
        assert elsewhere.headers["location"] == "/console"
        assert f"@{moderator.username}" in home.text
        assert page.nav_links() >= {"/console", "/console/appeals", "/transparency"}
        assert "/console/audit" not in page.nav_links()  # admins only
        devices = await api.call("GET", "/v1/devices", moderator)
        assert "moderation console" in [d["display_name"] for d in devices["devices"]]
        out = await browser.submit("/console", "/console/logout", {})
        assert out.status_code == 303
        assert out.headers["location"] == "/console/login?reason=signed_out"
        again = await browser.get("/console")
        assert again.status_code == 303
        devices = await api.call("GET", "/v1/devices", moderator)
        assert "moderation console" not in [d["display_name"] for d in devices["devices"]]
        notice = await browser.get("/console/login?reason=signed_out")
        assert "You have signed out" in notice.text


async def test_the_cookie_is_secure_when_the_request_came_over_https(
    server: RunningServer, api: Api
) -> None:
    moderator = await make_moderator(server, api)
    async with Console(server.base_url) as browser:
        # The server trusts X-Forwarded-Proto from its proxy (server.trusted_proxies: 127.0.0.1).
        browser.http.headers["X-Forwarded-Proto"] = "https"
        form = await browser.get("/console/login")
        login_cookie = form.headers["set-cookie"]
        assert cookie_attributes(login_cookie).get("secure") is True
        # httpx keeps Secure cookies for https only: hand the login token over as a browser would.
        token = cookie_attributes(login_cookie)
        assert token["name"] == "kabar_console_login"
        signed_in = await browser.http.post(
            "/console/login",
            data={
                "username": moderator.username,
                "password": moderator.password,
                "csrf": csrf_of(form.text),
            },
            headers={
                "Cookie": "kabar_console_login="
                + SimpleCookie(login_cookie)["kabar_console_login"].value
            },
        )
        assert signed_in.status_code == 303, signed_in.text[:300]
        session = next(
            cookie_attributes(value)
            for value in signed_in.headers.get_list("set-cookie")
            if value.startswith("kabar_console=")
        )
        assert session["secure"] is True


async def test_forms_without_the_sessions_csrf_token_are_refused(
    server: RunningServer, api: Api
) -> None:
    first, second = await make_moderator(server, api), await make_moderator(server, api)
    async with Console(server.base_url) as one, Console(server.base_url) as other:
        assert (await one.login(first.username)).status_code == 303
        assert (await other.login(second.username)).status_code == 303
        others_token = csrf_of((await other.get("/console")).text)
        for data in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": others_token}):
            refused = await one.http.post("/console/logout", data=data)
            assert refused.status_code == 403, data
            assert "did not come from the console" in refused.text
            assert_console_page(refused, status=403)
        # Still signed in: nothing happened.
        assert (await one.get("/console")).status_code == 200
        # The sign-in form needs its own token too.
        async with Console(server.base_url) as fresh:
            blind = await fresh.http.post(
                "/console/login", data={"username": first.username, "password": first.password}
            )
            assert blind.status_code == 403
            assert "kabar_console=" not in blind.headers.get("set-cookie", "")


async def test_only_moderators_and_admins_may_enter(server: RunningServer, api: Api) -> None:
    user = await api.register()
    admin = await make_moderator(server, api, Role.ADMIN)
    async with Console(server.base_url) as browser:
        refused = await browser.login(user.username)
        assert refused.status_code == 403
        assert f"@{user.username} is not a moderator" in refused.text
        assert "kabar_console=" not in refused.headers.get("set-cookie", "")
        assert_console_page(refused, status=403)
        devices = await api.call("GET", "/v1/devices", user)
        assert "moderation console" not in [d["display_name"] for d in devices["devices"]]
        wrong = await browser.login(admin.username, "not the password at all")
        assert wrong.status_code == 401
        assert "Wrong username or password" in wrong.text
        assert (await browser.login(admin.username)).status_code == 303
        assert_console_page(await browser.get("/console"))
        # Demoted while signed in: the next page is a 403 that still offers to sign out.
        await server.services.accounts.set_role(admin.account_id, Role.USER)
        demoted = await browser.get("/console")
        assert demoted.status_code == 403
        assert "is not a moderator" in demoted.text
        assert (await browser.submit_from(demoted.text, "/console/logout")).status_code == 303


async def test_a_suspended_or_revoked_session_falls_back_to_the_sign_in_page(
    server: RunningServer, api: Api
) -> None:
    moderator = await make_moderator(server, api)
    async with Console(server.base_url) as browser:
        assert (await browser.login(moderator.username)).status_code == 303
        await server.services.accounts.set_status(moderator.account_id, Status.SUSPENDED)
        ended = await browser.get("/console")
        assert ended.status_code == 303
        assert ended.headers["location"] == "/console/login?next=/console&reason=expired"
        assert (
            "Your console session has ended" in (await browser.get(ended.headers["location"])).text
        )
        await server.services.accounts.set_status(moderator.account_id, Status.ACTIVE)
        assert (await browser.login(moderator.username)).status_code == 303
        assert (await browser.get("/console")).status_code == 200
        devices = await api.call("GET", "/v1/devices", moderator)
        # Both console sign-ins left a device (suspension signs nobody out); revoke them.
        for device in devices["devices"]:
            if device["display_name"] == "moderation console":
                await api.call("DELETE", f"/v1/devices/{device['device_id']}", moderator)
        assert (await browser.get("/console")).status_code == 303
        assert (await api.call("GET", "/v1/account", moderator))["username"] == moderator.username
