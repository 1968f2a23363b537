"""``kabar explore``, ``read-article`` and ``verify-article``: reading public articles.

None of these needs an account. An article is named by its URL on any kabar
instance (``https://news.example/@daily_news/budget-2025``, its ``/history``
page or ``?revision=3``, or its API URL) or as ``@handle/slug`` on your
profile's server. ``read-article`` and ``verify-article`` check the article's
signature over exactly the text they show; when you are logged in on that
server they also ask its key directory whether the signing key belongs to the
device named (``verified`` once you compared safety numbers with it).
``verify-article`` exits with status 1 when the check fails.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.markup import escape

from kabar.cli.output import emit_json, out, run
from kabar.cli.profile import Profile
from kabar.cli.public_output import (
    account_line,
    article_entry,
    byline,
    signed_line,
    verification_lines,
)
from kabar.cli.signin import public_reader, reader_on
from kabar.client import Article, Revision, Verification, locate
from kabar.client.public_models import SearchResults
from kabar.client.public_reader import ArticleLocation

Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Reference = Annotated[
    str, typer.Argument(help="the article's URL (any kabar instance), or @handle/slug")
]
Server = Annotated[
    str | None, typer.Option("--server", "-s", help="server for @handle/slug (default: yours)")
]


def _locate(reference: str, server: str | None, revision: int | None = None) -> ArticleLocation:
    location = locate(reference, server or Profile.load().server)
    if revision is None:
        return location
    return ArticleLocation(
        location.server, location.handle, location.slug, location.article_id, revision
    )


def explore(
    words: Annotated[str, typer.Argument(help="words to find in public accounts and articles")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100)] = 10,
    server: Server = None,
    json_output: Json = False,
) -> None:
    """Search public accounts and articles (no login needed)."""

    async def work() -> SearchResults:
        async with public_reader(server) as reader:
            return await reader.search(words, limit)

    results = run(work, json_output=json_output)
    if json_output:
        emit_json(results)
        return
    if not results.accounts and not results.articles:
        out.print(f"nothing found for {words!r}")
    if results.accounts:
        out.print("[bold]Accounts[/bold]")
        for account in results.accounts:
            out.print(f"  {account_line(account)}")
    if results.articles:
        out.print("[bold]Articles[/bold]")
        for article in results.articles:
            for line in article_entry(article):
                out.print(line)


def read_article(
    reference: Reference,
    revision: Annotated[int | None, typer.Option(help="show this revision", min=1)] = None,
    history: Annotated[bool, typer.Option("--history", help="list every revision")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="print the Markdown as signed")] = False,
    server: Server = None,
    json_output: Json = False,
) -> None:
    """Read an article, its signature checked (no login needed)."""

    async def work() -> tuple[Article | Revision, Verification, list[Revision]]:
        location = _locate(reference, server, revision)
        async with reader_on(location.server) as reader:
            item = await reader.fetch(location)
            check = await reader.verify(item, handle=location.handle, slug=location.slug)
            article_id = item.id if isinstance(item, Article) else item.article_id
            revisions = await reader.revisions(article_id) if history else []
            return item, check, revisions

    item, check, revisions = run(work, json_output=json_output)
    if json_output:
        emit_json({"article": item, "verification": check, "revisions": revisions})
        return
    if raw:
        sys.stdout.write(item.markdown or "")
        return
    _show(item, check, revisions)


def _show(item: Article | Revision, check: Verification, revisions: list[Revision]) -> None:
    if isinstance(item, Article):
        out.print(f"[dim]{escape(item.account_name)} (@{escape(item.handle)})[/dim]")
        out.print(f"[bold]{escape(item.title)}[/bold]")
        out.print(f"[dim]{byline(item)}[/dim]")
    else:
        where = f"@{escape(item.handle)}/{escape(item.slug)}"
        out.print(f"[dim]{where}, revision {item.revision}[/dim]")
        out.print(f"[bold]{escape(item.title)}[/bold]  [dim]signed for {item.published_at}[/dim]")
    out.print(signed_line(check))
    out.rule()
    out.print(Markdown(item.markdown or ""))
    if revisions:
        out.rule()
        out.print("[bold]Revisions[/bold]")
        for entry in revisions:
            who = entry.signature.account if entry.signature else "?"
            out.print(
                f"  {entry.revision}: {escape(entry.title)} [dim]— @{escape(who)}, "
                f"{entry.published_at}[/dim]"
            )


def verify_article(
    reference: Reference,
    server: Server = None,
    json_output: Json = False,
) -> None:
    """Check an article's signature: who signed it, with which device key. Exit 1 if bad."""

    async def work() -> Verification:
        location = _locate(reference, server)
        async with reader_on(location.server) as reader:
            return await reader.verify_location(location)

    check = run(work, json_output=json_output)
    if json_output:
        emit_json(check)
    else:
        for line in verification_lines(check):
            out.print(line)
    if not check.ok:
        raise typer.Exit(1)
