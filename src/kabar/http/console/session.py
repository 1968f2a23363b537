"""Who is using the moderation console: the session cookie, CSRF tokens and role checks.

Signing in creates an ordinary device session (AccountService.login); its
access token lives in an HttpOnly, SameSite=Strict cookie scoped to
``/console`` (Secure when the request came over https), so it never reaches
script and never rides along on another site's requests. Every POST form
carries a CSRF token derived from that token (an HMAC keyed by it): it is tied
to the session, needs no server-side state, and a form from an earlier or
another session does not validate. The sign-in form itself, before any
session, uses a double-submit token in a cookie of its own.

A missing, revoked or suspended session sends the browser back to the sign-in
page; an account that is not a moderator or admin gets a 403 page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kabar.accounts.models import Principal, Role
from kabar.errors import Forbidden, Unauthenticated
from kabar.http.deps import came_over_https
from kabar.http.templating import Pages
from kabar.services import Services

COOKIE = "kabar_console"
LOGIN_COOKIE = "kabar_console_login"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf"
MODERATORS = (Role.MODERATOR, Role.ADMIN)


class ConsoleExit(Exception):
    """Stop handling a console request and answer with ``response`` (a redirect or a page)."""

    def __init__(self, response: Response) -> None:
        super().__init__("console exit")
        self.response = response


def install(app: FastAPI) -> None:
    @app.exception_handler(ConsoleExit)
    async def _exit(_request: Request, exc: ConsoleExit) -> Response:
        return exc.response


@dataclass(frozen=True, slots=True)
class Moderator:
    """A signed-in moderator or admin, with the CSRF token their forms must carry."""

    principal: Principal
    csrf: str

    @property
    def is_moderator(self) -> bool:
        return self.principal.role in MODERATORS

    @property
    def is_admin(self) -> bool:
        return self.principal.role is Role.ADMIN


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"kabar console csrf v1", hashlib.sha256).hexdigest()


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=came_over_https(request),
    )


def clear_cookie(response: Response, request: Request, name: str = COOKIE) -> None:
    response.delete_cookie(
        name, path=COOKIE_PATH, httponly=True, samesite="strict", secure=came_over_https(request)
    )


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def safe_next(path: str | None) -> str:
    """Where to go after signing in: only a console path, never another site."""
    if path and path.startswith(COOKIE_PATH) and not path.startswith("//"):
        if "\\" not in path and "\n" not in path and "\r" not in path:
            return path
    return COOKIE_PATH


def login_redirect(request: Request, reason: str | None = None) -> RedirectResponse:
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    url = f"{COOKIE_PATH}/login?next={quote(target, safe='/')}"
    if reason:
        url += f"&reason={reason}"
    response = RedirectResponse(url, status_code=303)
    clear_cookie(response, request)
    return response


class ConsolePages:
    """Renders console templates: never cached, never indexed."""

    def __init__(self, pages: Pages) -> None:
        self._pages = pages

    def render(
        self,
        template: str,
        moderator: Moderator | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        response = self._pages.render(
            f"console/{template}",
            status_code=status_code,
            moderator=moderator,
            csrf=moderator.csrf if moderator else "",
            **context,
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response


async def console_pages(request: Request) -> ConsolePages:
    return ConsolePages(request.app.state.pages)


ConsoleTemplates = Annotated[ConsolePages, Depends(console_pages)]


async def _signed_in(request: Request) -> tuple[Principal, str]:
    token = request.cookies.get(COOKIE)
    if not token:
        raise ConsoleExit(login_redirect(request))
    svc: Services = request.app.state.services
    try:
        principal = await svc.auth.authenticate(token)
    except (Unauthenticated, Forbidden):
        raise ConsoleExit(login_redirect(request, "expired")) from None
    return principal, token


def forbidden_page(request: Request, moderator: Moderator | None, message: str) -> HTMLResponse:
    pages = ConsolePages(request.app.state.pages)
    return pages.render("forbidden.html", moderator, status_code=403, message=message)


async def moderator(request: Request) -> Moderator:
    """The signed-in moderator or admin; anyone else is sent away."""
    principal, token = await _signed_in(request)
    if principal.role not in MODERATORS:
        # Still offer a sign-out form: the session is real, only the role is wrong.
        raise ConsoleExit(
            forbidden_page(
                request,
                Moderator(principal, csrf_for(token)),
                f"@{principal.username} is not a moderator. The moderation console is "
                "for moderators and admins of this server.",
            )
        )
    return Moderator(principal, csrf_for(token))


async def admin(request: Request) -> Moderator:
    """The signed-in admin; moderators get a 403 page."""
    who = await moderator(request)
    if not who.is_admin:
        raise ConsoleExit(
            forbidden_page(request, who, "Only admins of this server may use this page.")
        )
    return who


async def check_csrf(request: Request, who: Moderator) -> None:
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, who.csrf):
        await form.close()  # uploaded files are spooled to disk: let them go now
        raise ConsoleExit(
            forbidden_page(
                request,
                who,
                "This form has expired or did not come from the console. "
                "Go back, reload the page and try again.",
            )
        )


async def posting_anyone(request: Request) -> Moderator:
    """Any signed-in console session with the right CSRF token (signing out needs no role)."""
    principal, token = await _signed_in(request)
    who = Moderator(principal, csrf_for(token))
    await check_csrf(request, who)
    return who


async def posting_moderator(request: Request) -> Moderator:
    """A moderator submitting a console form with the right CSRF token."""
    who = await moderator(request)
    await check_csrf(request, who)
    return who


async def posting_admin(request: Request) -> Moderator:
    """An admin submitting a console form with the right CSRF token."""
    who = await admin(request)
    await check_csrf(request, who)
    return who


SignedIn = Annotated[Moderator, Depends(moderator)]
SignedInAdmin = Annotated[Moderator, Depends(admin)]
Posting = Annotated[Moderator, Depends(posting_moderator)]
PostingAdmin = Annotated[Moderator, Depends(posting_admin)]
PostingAnyone = Annotated[Moderator, Depends(posting_anyone)]
