"""The console's front page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from kabar.http.console.session import COOKIE_PATH, ConsoleTemplates, SignedIn

router = APIRouter(prefix=COOKIE_PATH, include_in_schema=False)


@router.get("", response_class=HTMLResponse, name="console_queue")
async def home(who: SignedIn, templates: ConsoleTemplates) -> HTMLResponse:
    return templates.render("home.html", who, active="queue")
