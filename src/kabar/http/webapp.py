"""The browser app at ``/app``: static files built from ``web/`` by npm (docs/web.md).

``make install`` builds the app into ``static/app/`` (not committed). Every path
under ``/app/`` that names a built file is served as that file; any other path
is the single-page app's own route and gets ``index.html``. Without a build
(no node/npm on this machine) ``/app`` answers a short page that says so.

Every answer carries :data:`CONTENT_SECURITY_POLICY`: scripts, styles and
connections only from this origin, ``'wasm-unsafe-eval'`` so the Olm
WebAssembly module may compile, and nothing inline.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

router = APIRouter(include_in_schema=False)

APP_DIR = Path(__file__).parent / "static" / "app"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kabar</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>The kabar web app is not built</h1>
<p>This server has no built browser app. It is built from <code>web/</code> with npm
when kabar is installed with <code>make install</code> (or <code>make demo</code>) on a
machine with Node.js and npm. Install them, then run <code>make install</code> again.</p>
<p>The API at <a href="/v1/docs">/v1/docs</a> and the command-line client work without it.</p>
</main></body></html>
"""


def app_file(path: str) -> Path | None:
    """The built file ``path`` names, or None (a route of the app, or outside the build)."""
    if not path or any(part.startswith(".") for part in path.split("/")):
        return None  # no hidden files (the build stamp), no parent directories
    base = APP_DIR.resolve()
    candidate = (base / path).resolve()
    if base not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def _index() -> Response:
    index = APP_DIR / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers=SECURITY_HEADERS)
    # The page names hashed assets: it must be fetched fresh after every build.
    return FileResponse(index, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.api_route("/app", methods=["GET", "HEAD"])
async def app_root() -> Response:
    return RedirectResponse("/app/", status_code=308)


@router.api_route("/app/{path:path}", methods=["GET", "HEAD"])
async def app_path(path: str) -> Response:
    found = app_file(path)
    if found is None:
        return _index()
    hashed = found.parent.name == "assets"
    cache = "public, max-age=31536000, immutable" if hashed else "no-cache"
    return FileResponse(found, headers={**SECURITY_HEADERS, "Cache-Control": cache})
