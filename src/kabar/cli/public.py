"""``kabar public …``: public accounts — create, show, edit, list yours, members and roles.

A public account is named by its handle, ``@daily_news`` (the ``@`` is optional).
``show`` works without an account; everything else needs ``kabar login``.
Publishing is ``kabar publish`` (:mod:`kabar.cli.publishing`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from kabar.cli.output import emit_json, out, run
from kabar.cli.public_output import account_details, account_line, article_entry
from kabar.cli.signin import public_reader, signed_in
from kabar.client import ArticlePage, PublicAccount
from kabar.client.public import KINDS
from kabar.client.public_models import Member

Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Handle = Annotated[str, typer.Argument(help="the public account, e.g. @daily_news")]
Username = Annotated[str, typer.Argument(help="the member's @username")]
Kind = Annotated[str, typer.Option(help=f"shown as a label: {', '.join(KINDS)}")]
Server = Annotated[
    str | None, typer.Option("--server", "-s", help="server URL (default: your profile's)")
]

public_app = typer.Typer(
    help="Public accounts: articles anyone can read and subscribe to.", no_args_is_help=True
)


@public_app.command("create")
def create(
    handle: Handle,
    name: Annotated[str, typer.Option("--name", help="the account's display name")],
    kind: Kind = "individual",
    bio: Annotated[str, typer.Option(help="a short description")] = "",
    json_output: Json = False,
) -> None:
    """Open a public account; you become its owner."""

    async def work() -> PublicAccount:
        async with signed_in(catch_up=False) as (session, _):
            return await session.public.create(handle, name, kind=kind, bio=bio)

    account = run(work, json_output=json_output)
    if json_output:
        emit_json(account)
        return
    out.print(f"created {account_line(account)}")
    out.print(f"  {account.url}\n  publish with: kabar publish @{account.handle} article.md")


@public_app.command("show")
def show(
    handle: Handle,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100)] = 5,
    server: Server = None,
    json_output: Json = False,
) -> None:
    """A public account's profile and latest articles (no login needed)."""

    async def work() -> tuple[PublicAccount, ArticlePage]:
        async with public_reader(server) as reader:
            return await reader.account(handle), await reader.articles(handle, limit=limit)

    account, page = run(work, json_output=json_output)
    if json_output:
        emit_json({"account": account, "articles": page.articles})
        return
    for line in account_details(account):
        out.print(line)
    for article in page.articles:
        out.print()
        for line in article_entry(article):
            out.print(line)


@public_app.command("edit")
def edit(
    handle: Handle,
    name: Annotated[str | None, typer.Option("--name")] = None,
    bio: Annotated[str | None, typer.Option("--bio")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help=", ".join(KINDS))] = None,
    json_output: Json = False,
) -> None:
    """Edit the profile (owners)."""

    async def work() -> PublicAccount:
        async with signed_in(catch_up=False) as (session, _):
            return await session.public.update(handle, name=name, bio=bio, kind=kind)

    account = run(work, json_output=json_output)
    if json_output:
        emit_json(account)
    else:
        out.print(f"updated {account_line(account)}")


@public_app.command("list")
def mine(json_output: Json = False) -> None:
    """The public accounts you own or edit."""

    async def work() -> list[PublicAccount]:
        async with signed_in(catch_up=False) as (session, _):
            return await session.public.mine()

    accounts = run(work, json_output=json_output)
    if json_output:
        emit_json(accounts)
        return
    if not accounts:
        out.print('none yet: kabar public create @handle --name "Your Name"')
    for account in accounts:
        out.print(account_line(account))


@public_app.command("members")
def members(handle: Handle, json_output: Json = False) -> None:
    """Owners and editors (members only)."""

    async def work() -> list[Member]:
        async with signed_in(catch_up=False) as (session, _):
            return await session.public.members(handle)

    _show_members(run(work, json_output=json_output), json_output)


@public_app.command("add")
def add(
    handle: Handle,
    username: Username,
    role: Annotated[str, typer.Option(help="owner or editor")] = "editor",
    json_output: Json = False,
) -> None:
    """Add an owner or editor, or change a member's role (owners)."""

    async def work() -> list[Member]:
        async with signed_in(catch_up=False) as (session, _):
            return await session.public.add_member(handle, username, role)

    _show_members(run(work, json_output=json_output), json_output)


@public_app.command("remove")
def remove(handle: Handle, username: Username, json_output: Json = False) -> None:
    """Remove a member (owners), or leave (your own username)."""

    async def work() -> None:
        async with signed_in(catch_up=False) as (session, _):
            await session.public.remove_member(handle, username)

    run(work, json_output=json_output)
    who, where = username.lstrip("@"), handle.lstrip("@")
    if json_output:
        emit_json({"removed": who, "handle": where})
    else:
        out.print(f"removed {who} from @{where}")


def _show_members(found: list[Member], json_output: bool) -> None:
    if json_output:
        emit_json(found)
        return
    for member in found:
        out.print(f"{member.username} [dim]({member.display_name})[/dim]: {member.role}")
