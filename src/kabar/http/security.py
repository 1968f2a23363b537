"""Security headers on every response, and a strict Content-Security-Policy on every page.

Pages (HTML outside the API) get a CSP that allows scripts, styles, fonts and
connections only from this origin — no inline script, no ``eval``, no external
resources — and images from this origin or over HTTPS (articles may show
images hosted elsewhere; they load with ``referrerpolicy="no-referrer"``).
Pages cannot be framed. Every response gets ``nosniff`` and a referrer policy.
The interactive API docs (``/v1/docs``) load Swagger UI from a CDN, so the
page CSP is not applied under ``/v1/``.

Written as plain ASGI, like kabar.http.middleware, so it costs almost nothing.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
PAGES = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = str(scope.get("path", "")).startswith("/v1/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if not is_api and headers.get("content-type", "").startswith("text/html"):
                    for name, value in PAGES.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
