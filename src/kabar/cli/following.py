"""``kabar subscribe``, ``unsubscribe`` and ``feed``: following public accounts.

``kabar feed`` shows the newest articles of the accounts you subscribe to and
remembers where it stopped; ``--more`` shows the next page. ``--follow`` then
keeps running: every article a followed account publishes (notifications on)
appears the moment it is published — over the same realtime stream as chats.
With ``--json``, ``--follow`` prints one JSON object per new article.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kabar.cli.output import emit_json, err, format_update, out, run
from kabar.cli.public_output import article_entry
from kabar.cli.signin import signed_in
from kabar.client import ArticlePage, ArticlePublished, Session
from kabar.client.public_models import PublicSubscription

Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Handle = Annotated[str, typer.Argument(help="the public account, e.g. @daily_news")]
CURSOR_SETTING = "cli.feed_cursor"  # in the device's encrypted store


def subscribe(
    handle: Handle,
    notify: Annotated[
        bool, typer.Option("--notify/--no-notify", help="new articles arrive live")
    ] = True,
    json_output: Json = False,
) -> None:
    """Subscribe to a public account (or switch its notifications on or off)."""

    async def work() -> PublicSubscription:
        async with signed_in(catch_up=False) as (session, _):
            return await session.public.subscribe(handle, notifications=notify)

    subscription = run(work, json_output=json_output)
    if json_output:
        emit_json(subscription)
        return
    out.print(f"subscribed to {subscription.name} (@{subscription.handle})")
    if subscription.notifications:
        out.print("  new articles arrive live: kabar feed --follow")
    else:
        out.print("  notifications off: new articles show in kabar feed")


def unsubscribe(handle: Handle, json_output: Json = False) -> None:
    """Stop following a public account."""

    async def work() -> None:
        async with signed_in(catch_up=False) as (session, _):
            await session.public.unsubscribe(handle)

    run(work, json_output=json_output)
    if json_output:
        emit_json({"unsubscribed": handle.lstrip("@").lower()})
    else:
        out.print(f"unsubscribed from @{handle.lstrip('@').lower()}")


def feed(
    more: Annotated[bool, typer.Option("--more", help="the page after the last one shown")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100)] = 10,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="then show new articles as they are published")
    ] = False,
    count: Annotated[
        int | None, typer.Option(help="with --follow: stop after this many new articles", min=1)
    ] = None,
    json_output: Json = False,
) -> None:
    """Articles of the accounts you subscribe to, newest first."""

    async def work() -> None:
        async with signed_in(catch_up=follow) as (session, _):
            page = await _page(session, more, limit)
            if not (json_output and follow):
                _show_page(page, more, json_output)
            if follow:
                await _follow(session, count, json_output)

    run(work, json_output=json_output)


async def _page(session: Session, more: bool, limit: int) -> ArticlePage:
    cursor = session.store.get_setting(CURSOR_SETTING) if more else None
    if more and cursor is None:
        return ArticlePage((), None)
    page = await session.public.feed(cursor, limit)
    session.store.set_setting(CURSOR_SETTING, page.next_cursor)
    return page


def _show_page(page: ArticlePage, more: bool, json_output: bool) -> None:
    if json_output:
        emit_json({"articles": page.articles, "next_cursor": page.next_cursor})
        return
    if not page.articles:
        out.print("nothing more" if more else "nothing yet: kabar subscribe @handle")
    for article in page.articles:
        for line in article_entry(article):
            out.print(line)
        out.print()
    if page.next_cursor:
        out.print("[dim]older: kabar feed --more[/dim]")


async def _follow(session: Session, count: int | None, json_output: bool) -> None:
    updates = session.subscribe()
    await session.start()
    try:
        if not await session.wait_live(30):
            err.print("[yellow]the live stream is not up yet; still trying…[/yellow]")
        following = [s for s in await session.public.subscriptions() if s.notifications]
        if not json_output:
            names = ", ".join(f"@{s.handle}" for s in following) or "nobody yet"
            out.print(f"following {names} — new articles appear here (Ctrl-C to stop)")
        seen = 0
        async for update in updates:
            if not isinstance(update, ArticlePublished):
                continue
            _show_arrival(update, json_output)
            seen += 1
            if count is not None and seen >= count:
                return
        if session.stream_error is not None:
            raise session.stream_error
    finally:
        updates.close()
        await session.stop()


def _show_arrival(update: ArticlePublished, json_output: bool) -> None:
    if json_output:
        emit_json(update)
        return
    out.print(format_update(update, ""))
    if update.summary:
        out.print(f"  {escape(update.summary)}")
    out.print(f"  [dim]{escape(update.url)}[/dim]")
