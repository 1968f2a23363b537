"""The Jinja2 environment of the open-web pages (templates under ``http/templates/``).

Autoescaping is on for everything; the only markup inserted unescaped is an
article's HTML, which kabar.public.render has already sanitised. Filters turn
millisecond timestamps into readable and machine-readable dates and site paths
into absolute URLs (OpenGraph and feeds need those).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from kabar.config import ServerConfig
from kabar.public.models import REACTIONS


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def human_date(ms: int | None) -> str:
    """``4 March 2025``."""
    if ms is None:
        return ""
    moment = _moment(ms)
    return f"{moment.day} {moment:%B %Y}"


def iso_date(ms: int | None) -> str:
    """``2025-03-04T09:30:00Z`` (for ``<time datetime>`` and OpenGraph)."""
    if ms is None:
        return ""
    return _moment(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_time(ms: int | None) -> str:
    """``4 March 2025, 09:30 UTC`` (the console needs the time of day)."""
    if ms is None:
        return ""
    moment = _moment(ms)
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 subscriber``, ``1,204 subscribers``."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


class Pages:
    """Renders templates with the site's name, description and address."""

    def __init__(self, server: ServerConfig) -> None:
        self._server = server
        self.base_url = server.public_url.rstrip("/")
        self._env = Environment(
            loader=PackageLoader("kabar.http", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            human_date=human_date,
            human_time=human_time,
            iso_date=iso_date,
            count=count,
            absolute=self.absolute,
        )
        self._env.globals.update(
            site_name=server.name,
            site_description=server.description,
            base_url=self.base_url,
            reactions=REACTIONS,
        )

    def add_globals(self, **values: Any) -> None:
        """Names every template sees (the console's navigation, for one)."""
        self._env.globals.update(values)

    def absolute(self, url: str | None) -> str:
        """Site paths made absolute; other URLs unchanged."""
        if not url:
            return ""
        return self.base_url + url if url.startswith("/") else url

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self._env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status_code)
