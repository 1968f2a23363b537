"""The moderation console: server-rendered pages for moderators and admins under ``/console``.

Plain HTML forms, no script (the page CSP forbids inline script anyway), usable
on a phone. kabar.http.console.session owns who may enter; each other module
owns one area of pages. :func:`install` wires the routes and works out which
navigation entries exist, so the console never links to a page this server
does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from kabar.http import transparency_report
from kabar.http.console import appeals, auth, authority, cases, hash_lists, session
from kabar.http.templating import Pages

router = APIRouter(include_in_schema=False)
for _module in (auth, cases, appeals, authority, hash_lists):
    router.include_router(_module.router)


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    label: str
    route: str  # the route's name: the entry shows only if the route exists
    admin_only: bool
    href: str = ""


NAV = (
    NavItem("queue", "Queue", "console_queue", False),
    NavItem("appeals", "Appeals", "console_appeals", False),
    NavItem("authority", "Authority requests", "console_authority_requests", True),
    NavItem("hashes", "Hash lists", "console_hash_lists", True),
    NavItem("audit", "Audit log", "console_audit", True),
    NavItem("transparency", "Transparency", "report_page", False),  # kabar.http.transparency_report
)


def _route_paths() -> dict[str, str]:
    """Route name -> path for the parameterless page routes the navigation can link to.

    Read from the routers' own route lists (app.url_path_for would walk every included
    router and cost ~0.3 s per lookup at each server start).
    """
    routers = [m.router for m in (auth, cases, appeals, authority, hash_lists)]
    routers.append(transparency_report.router)
    return {
        route.name: route.path
        for r in routers
        for route in r.routes
        if isinstance(route, APIRoute) and "{" not in route.path
    }


def install(app: FastAPI, pages: Pages) -> None:
    """Error handling for console pages, and navigation to the pages that exist."""
    session.install(app)
    paths = _route_paths()
    nav = []
    for item in NAV:
        path = paths.get(item.route)
        if path is not None:
            nav.append(NavItem(item.key, item.label, item.route, item.admin_only, path))
    pages.add_globals(
        console_nav=nav, has_transparency=any(item.key == "transparency" for item in nav)
    )
