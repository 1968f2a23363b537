"""Rendering every error as an RFC 9457 problem document (``application/problem+json``).

``KabarError`` renders itself; request validation failures become 400
``invalid_request`` with the offending fields; unknown routes 404; anything
unexpected is logged with a reference and answered as a generic 500 (never
with internals).
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from kabar.errors import ErrorCode, KabarError, RateLimited, Unavailable

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem document; ``code`` is stable and machine-readable."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def render(error: KabarError) -> JSONResponse:
    headers = {}
    if isinstance(error, RateLimited | Unavailable):
        headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return problem_response(error.status, error.to_problem(), headers)


def _status_code(status: int) -> ErrorCode:
    return {
        401: ErrorCode.UNAUTHENTICATED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
        413: ErrorCode.PAYLOAD_TOO_LARGE,
        429: ErrorCode.RATE_LIMITED,
        503: ErrorCode.UNAVAILABLE,
    }.get(status, ErrorCode.INVALID_REQUEST)


def install(app: FastAPI) -> None:
    @app.exception_handler(KabarError)
    async def _kabar_error(_request: Request, exc: KabarError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = (
            "; ".join(f"{e['location']}: {e['message']}" for e in errors[:5]) or "malformed request"
        )
        body = {
            "type": f"https://kabar.dev/problems/{ErrorCode.INVALID_REQUEST.value}",
            "title": "Invalid request",
            "status": 400,
            "detail": detail,
            "code": ErrorCode.INVALID_REQUEST.value,
            "errors": json.loads(json.dumps(errors, default=str)),
        }
        return problem_response(400, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _status_code(exc.status_code)
        body = {
            "type": f"https://kabar.dev/problems/{code.value}",
            "title": code.value.replace("_", " ").capitalize(),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "code": code.value,
        }
        return problem_response(exc.status_code, body, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return unexpected(exc)


def unexpected(exc: BaseException) -> JSONResponse:
    """A generic 500; the error is logged under a reference the answer quotes."""
    reference = secrets.token_hex(6)
    log.error("unhandled error (reference %s)", reference, exc_info=exc)
    body = {
        "type": f"https://kabar.dev/problems/{ErrorCode.INTERNAL.value}",
        "title": "Internal error",
        "status": 500,
        "detail": f"something went wrong on our side (reference {reference})",
        "code": ErrorCode.INTERNAL.value,
    }
    return problem_response(500, body)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in (400, 401, 403, 404, 409, 413, 429, 503)
}
