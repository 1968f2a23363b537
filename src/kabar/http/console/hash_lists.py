"""Hash lists in the console (admins only): what is imported, and a CSV upload form.

``/console/hash-lists`` shows each list with its action (open a case or remove
automatically) and how many hashes it holds; the form uploads a CSV in the
format of docs/moderation.md § 4 and shows what the import did, including the
lines it refused. HashListService parses and stores; the console only carries
the file.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from kabar.errors import KabarError
from kabar.http.console.session import (
    COOKIE_PATH,
    ConsoleTemplates,
    Moderator,
    PostingAdmin,
    SignedInAdmin,
)
from kabar.http.deps import Svc
from kabar.moderation.hash_import import ImportReport
from kabar.services import Services

router = APIRouter(prefix=f"{COOKIE_PATH}/hash-lists", include_in_schema=False)

ACTION_NAMES = {"open_case": "Open a case", "auto_remove": "Remove automatically"}


async def _page(
    who: Moderator,
    svc: Services,
    templates: ConsoleTemplates,
    *,
    report: ImportReport | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lists = await svc.hash_lists.lists(who.principal)
    return templates.render(
        "hash_lists.html",
        who,
        status_code=status_code,
        active="hashes",
        lists=lists,
        report=report,
        error=error,
        action_names=ACTION_NAMES,
    )


@router.get("", response_class=HTMLResponse, name="console_hash_lists")
async def hash_lists(who: SignedInAdmin, svc: Svc, templates: ConsoleTemplates) -> HTMLResponse:
    return await _page(who, svc, templates)


@router.post("/import", response_class=HTMLResponse)
async def import_csv(
    request: Request, who: PostingAdmin, svc: Svc, templates: ConsoleTemplates
) -> HTMLResponse:
    form = await request.form()  # already parsed (and cached) by the CSRF check
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _page(who, svc, templates, error="Choose a CSV file.", status_code=400)
        data = await upload.read()
    finally:
        await form.close()
    try:
        report = await svc.hash_lists.import_csv(who.principal, data)
    except KabarError as exc:
        code = exc.status if 400 <= exc.status < 500 else 400
        return await _page(who, svc, templates, error=exc.detail, status_code=code)
    return await _page(who, svc, templates, report=report)
