"""Signing in to and out of the moderation console.

``GET /console/login`` shows the form (and sets the double-submit cookie its
CSRF token is checked against); ``POST /console/login`` signs in through
AccountService.login, creating a device session named "moderation console",
and keeps its token in the console cookie. An account that is not a moderator
or admin is signed straight back out and shown a 403 page, so it never holds a
console session. ``POST /console/logout`` revokes the device session.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kabar.errors import Forbidden, InvalidRequest, RateLimited, Unauthenticated
from kabar.http.console.session import (
    COOKIE,
    COOKIE_PATH,
    LOGIN_COOKIE,
    MODERATORS,
    ConsoleTemplates,
    PostingAnyone,
    clear_cookie,
    new_login_token,
    safe_next,
    set_cookie,
)
from kabar.http.deps import Svc, client_address
from kabar.services import Services

router = APIRouter(prefix=COOKIE_PATH, include_in_schema=False)

DEVICE_NAME = "moderation console"
REASONS = {
    "expired": "Your console session has ended (signed out, revoked or suspended). Sign in again.",
    "signed_out": "You have signed out of the console.",
}
Text = Annotated[str, Form(max_length=4000)]


def login_form(
    request: Request,
    templates: ConsoleTemplates,
    *,
    next_path: str,
    username: str = "",
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = new_login_token()
    response = templates.render(
        "login.html",
        status_code=status_code,
        login_csrf=token,
        next_path=next_path,
        username=username,
        error=error,
        notice=notice,
    )
    set_cookie(response, request, LOGIN_COOKIE, token)
    return response


@router.get("/login", response_model=None)
async def login_page(
    request: Request,
    svc: Svc,
    templates: ConsoleTemplates,
    next: Annotated[str | None, Query(max_length=500)] = None,  # noqa: A002 - the URL's name
    reason: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    if await _already_signed_in(request, svc):
        return RedirectResponse(safe_next(next), status_code=303)
    return login_form(
        request, templates, next_path=safe_next(next), notice=REASONS.get(reason or "")
    )


async def _already_signed_in(request: Request, svc: Services) -> bool:
    token = request.cookies.get(COOKIE)
    if not token:
        return False
    try:
        principal = await svc.auth.authenticate(token)
    except (Unauthenticated, Forbidden):
        return False
    return principal.role in MODERATORS


@router.post("/login", response_model=None)
async def login(
    request: Request,
    svc: Svc,
    templates: ConsoleTemplates,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = COOKIE_PATH,  # noqa: A002 - the form's name
) -> Response:
    next_path = safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf, expected):
        return templates.render(
            "forbidden.html",
            status_code=403,
            message="The sign-in form expired or did not come from this console. "
            "Reload the sign-in page and try again.",
        )
    retry = {"next_path": next_path, "username": username}
    if not username.strip() or not password:
        return login_form(
            request,
            templates,
            **retry,
            error="Enter your username and password.",
            status_code=400,
        )
    try:
        session = await svc.accounts.login(username, password, DEVICE_NAME, client_address(request))
    except Unauthenticated:
        return login_form(
            request, templates, **retry, error="Wrong username or password.", status_code=401
        )
    except Forbidden as exc:
        return login_form(request, templates, **retry, error=exc.detail, status_code=403)
    except RateLimited as exc:
        return login_form(
            request,
            templates,
            **retry,
            error=f"Too many sign-in attempts. Try again in {int(exc.retry_after) + 1} seconds.",
            status_code=429,
        )
    except InvalidRequest as exc:
        return login_form(request, templates, **retry, error=exc.detail, status_code=400)
    principal = await svc.auth.authenticate(session.access_token)
    if principal.role not in MODERATORS:
        await svc.accounts.logout(principal)
        response = templates.render(
            "forbidden.html",
            status_code=403,
            message=f"@{principal.username} is not a moderator. The moderation console is "
            "for moderators and admins of this server.",
        )
        clear_cookie(response, request, LOGIN_COOKIE)
        return response
    redirect = RedirectResponse(next_path, status_code=303)
    set_cookie(redirect, request, COOKIE, session.access_token)
    clear_cookie(redirect, request, LOGIN_COOKIE)
    return redirect


@router.post("/logout")
async def logout(request: Request, svc: Svc, who: PostingAnyone) -> RedirectResponse:
    await svc.accounts.logout(who.principal)
    response = RedirectResponse(f"{COOKIE_PATH}/login?reason=signed_out", status_code=303)
    clear_cookie(response, request)
    return response
