"""The open web: server-rendered pages anyone can read without an account or JavaScript.

``/`` introduces the instance, ``/explore`` searches it, ``/@handle`` shows a
public account and its articles, ``/@handle/<slug>`` one article (reading it
counts a view) and ``/@handle/<slug>/history`` its signed revisions. Pages are
HTML only: they take data from the same services as the API and never touch
the database. Security headers come from kabar.http.security.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from kabar.errors import InvalidRequest, NotFound
from kabar.http.deps import Svc, client_address
from kabar.http.public_schemas import signed_time
from kabar.http.templating import Pages
from kabar.public.views import viewer_identity

router = APIRouter(include_in_schema=False)


def pages(request: Request) -> Pages:
    result: Pages = request.app.state.pages
    return result


Templates = Annotated[Pages, Depends(pages)]
Cursor = Annotated[str | None, Query(max_length=200)]


def not_found(templates: Pages, what: str = "page") -> HTMLResponse:
    return templates.render("not_found.html", status_code=404, what=what)


@router.get("/", response_class=HTMLResponse)
async def home(svc: Svc, templates: Templates) -> HTMLResponse:
    featured = await svc.public_accounts.featured(8)
    latest = await svc.reader.latest(10)
    return templates.render("home.html", featured=featured, latest=latest.items)


@router.get("/explore", response_class=HTMLResponse)
async def explore(
    svc: Svc,
    templates: Templates,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    if not q.strip():
        featured = await svc.public_accounts.featured(24)
        latest = await svc.reader.latest(20)
        return templates.render("explore.html", q="", featured=featured, latest=latest.items)
    try:
        results = await svc.search.search(q, 20)
    except InvalidRequest as exc:
        return templates.render("explore.html", q=q, error=exc.detail, status_code=400)
    return templates.render("explore.html", q=results.query, results=results)


@router.get("/@{handle}", response_class=HTMLResponse)
async def profile(
    handle: str, svc: Svc, templates: Templates, before: Cursor = None
) -> HTMLResponse:
    try:
        try:
            account, page = await svc.reader.published(handle, before, 20)
        except InvalidRequest:  # a mangled ?before= link: show the first page
            account, page = await svc.reader.published(handle, None, 20)
    except NotFound:
        return not_found(templates, "public account")
    return templates.render(
        "profile.html", account=account, articles=page.items, next_cursor=page.next_cursor
    )


@router.get("/@{handle}/{slug}", response_class=HTMLResponse)
async def article(
    handle: str, slug: str, request: Request, svc: Svc, templates: Templates
) -> HTMLResponse:
    try:
        found = await svc.reader.by_slug(handle, slug)
        account = await svc.public_accounts.get(handle)
        comments = await svc.comments.page(found.id, None, None, 100)
    except NotFound:
        return not_found(templates, "article")
    await svc.views.record(found.id, viewer_identity(None, client_address(request)))
    return templates.render(
        "article.html",
        article=found,
        account=account,
        comments=comments.items,
        signed_at=signed_time(found.signature.published_at) if found.signature else "",
    )


@router.get("/@{handle}/{slug}/history", response_class=HTMLResponse)
async def history(
    handle: str,
    slug: str,
    svc: Svc,
    templates: Templates,
    revision: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> HTMLResponse:
    try:
        found = await svc.reader.by_slug(handle, slug)
        revisions = await svc.reader.revisions(found.id)
        shown = await svc.reader.revision(found.id, revision) if revision else None
    except NotFound:
        return not_found(templates, "revision")
    return templates.render(
        "history.html",
        article=found,
        revisions=revisions,
        shown=shown,
        signed_time=signed_time,
    )
