"""``kabar publish``, ``unpublish`` and ``drafts``: writing to a public account.

``kabar publish @handle article.md`` publishes a new article, signed by this
device's Ed25519 identity key (the title is the first ``# Heading`` unless
``--title`` says otherwise). ``--slug SLUG`` names an existing article: the file
becomes its next revision — an edit, kept in the public history — or, for a
draft, its new text. ``--draft`` only saves; ``--at`` schedules a first
publication: an ISO 8601 time (local unless it names a zone) or ``+30m``,
``+2h``, ``+1d`` from now.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from kabar.cli.output import emit_json, out, run
from kabar.cli.profile import CliError
from kabar.cli.public_output import article_entry, when
from kabar.cli.signin import signed_in
from kabar.client import Article

Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Handle = Annotated[str, typer.Argument(help="the public account, e.g. @daily_news")]

_RELATIVE = re.compile(r"^\+(?:\d+[smhdw])+$")
_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime) -> datetime:
    """``+2h``/``+1d12h`` after ``now``, or an ISO 8601 time (local if it names no zone)."""
    value = text.strip()
    if _RELATIVE.match(value):
        parts = {_UNITS[unit]: 0 for unit in _UNITS}
        for number, unit in _PART.findall(value):
            parts[_UNITS[unit]] += int(number)
        return now + timedelta(**parts)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(
            f"--at {text!r}: give an ISO 8601 time (2030-03-01T09:30, 2030-03-01T09:30+01:00) "
            "or a delay such as +30m, +2h, +1d"
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()


def read_markdown(path: Path) -> str:
    """The file's text exactly (no newline conversion: what is signed is what is stored)."""
    data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text") from None


def publish(
    handle: Handle,
    file: Annotated[Path, typer.Argument(help="the article in Markdown (- for stdin)")],
    title: Annotated[str | None, typer.Option(help="default: the first # heading")] = None,
    slug: Annotated[
        str | None, typer.Option(help="an existing article to edit (else the new one's address)")
    ] = None,
    draft: Annotated[bool, typer.Option("--draft", help="save as a draft only")] = False,
    at: Annotated[
        str | None, typer.Option("--at", metavar="TIME", help="schedule: ISO 8601, or +2h")
    ] = None,
    json_output: Json = False,
) -> None:
    """Publish an article from a Markdown file, signed by this device."""
    if draft and at:
        raise CliError("--draft saves without publishing; --at schedules: choose one")

    async def work() -> Article:
        markdown = read_markdown(file)
        async with signed_in(catch_up=False) as (session, _):
            moment = parse_time(at, session.public.now()) if at else None
            return await session.public.publish(
                handle, markdown, title=title, slug=slug, at=moment, draft=draft
            )

    article = run(work, json_output=json_output)
    if json_output:
        emit_json(article)
        return
    where = f"@{article.handle}/{article.slug}"
    if article.status == "draft":
        out.print(f"saved draft {where}")
        out.print(f"  publish it: kabar publish @{article.handle} {file} --slug {article.slug}")
    elif article.status == "scheduled":
        out.print(f"scheduled {where} for {when(article.scheduled_at)}")
        out.print(f"  cancel with: kabar unpublish @{article.handle} {article.slug}")
    else:
        what = "published" if article.revision == 1 else f"published revision {article.revision} of"
        out.print(f"{what} {where}, signed by this device")
        out.print(f"  {article.url}")
        out.print(f"  edit it: kabar publish @{article.handle} {file} --slug {article.slug}")


def unpublish(
    handle: Handle,
    slug: Annotated[str, typer.Argument(help="the article's slug (its address)")],
    json_output: Json = False,
) -> None:
    """Take a published article down, or cancel a scheduled one."""

    async def work() -> Article:
        async with signed_in(catch_up=False) as (session, _):
            return await session.public.unpublish(handle, slug)

    article = run(work, json_output=json_output)
    if json_output:
        emit_json(article)
    elif article.status == "unpublished":
        out.print(f"unpublished @{article.handle}/{article.slug}")
    else:
        out.print(f"cancelled the scheduled publication of @{article.handle}/{article.slug}")


def drafts(handle: Handle, json_output: Json = False) -> None:
    """Drafts, scheduled and unpublished articles of an account you edit."""

    async def work() -> list[Article]:
        async with signed_in(catch_up=False) as (session, _):
            return await session.public.drafts(handle)

    found = run(work, json_output=json_output)
    if json_output:
        emit_json(found)
        return
    if not found:
        out.print("no drafts")
    for article in found:
        for line in article_entry(article):
            out.print(line)
