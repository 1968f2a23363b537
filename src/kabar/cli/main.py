"""The ``kabar`` command line: running a server, chatting end-to-end encrypted, and
publishing and following public accounts.

Server commands live in ``kabar.cli.server``; client commands in
``kabar.cli.account`` (register, login, logout, devices, verify, backup),
``kabar.cli.messaging`` (chats, send, read, download, group, search, report),
``kabar.cli.chat`` (the interactive chat), ``kabar.cli.public`` (public
accounts and members), ``kabar.cli.publishing`` (publish, unpublish, drafts),
``kabar.cli.following`` (subscribe, unsubscribe, feed) and ``kabar.cli.reading``
(explore, read-article, verify-article), ``kabar.cli.moderation`` (notices, appeal,
report-content, and the moderators' ``kabar admin`` commands).
"""

from __future__ import annotations

import typer

from kabar.cli import (
    account,
    authority,
    chat,
    following,
    hashes,
    messaging,
    moderation,
    public,
    publishing,
    reading,
    server,
    transparency,
)

app = typer.Typer(
    name="kabar",
    help="kabar: private chats only their participants can read, public voices anyone can follow.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(server.serve)
app.command("demo")(server.demo)
app.add_typer(server.db_app, name="db")

app.command("register")(account.register)
app.command("login")(account.login)
app.command("logout")(account.logout)
app.add_typer(account.devices_app, name="devices")
app.command("verify")(account.verify)
app.add_typer(account.backup_app, name="backup")

app.command("chats")(messaging.chats)
app.command("send")(messaging.send)
app.command("read")(messaging.read)
app.command("download")(messaging.download)
app.command("chat")(chat.chat)
app.add_typer(messaging.group_app, name="group")
app.command("search")(messaging.search)
app.command("report")(messaging.report)
app.command("delete")(messaging.delete)

app.add_typer(public.public_app, name="public")
app.command("publish")(publishing.publish)
app.command("unpublish")(publishing.unpublish)
app.command("drafts")(publishing.drafts)
app.command("subscribe")(following.subscribe)
app.command("unsubscribe")(following.unsubscribe)
app.command("feed")(following.feed)
app.command("explore")(reading.explore)
app.command("read-article")(reading.read_article)
app.command("verify-article")(reading.verify_article)

app.add_typer(transparency.transparency_app, name="transparency")
app.command("notices")(moderation.notices)
app.command("appeal")(moderation.appeal)
app.command("report-content")(moderation.report_content)

admin_app = typer.Typer(help="Moderation and administration commands.", no_args_is_help=True)
admin_app.add_typer(authority.authority_app, name="authority")
admin_app.add_typer(hashes.hashes_app, name="hashes")
for name, command in (
    ("queue", moderation.queue),
    ("case", moderation.case),
    ("open", moderation.open_case),
    ("assign", moderation.assign),
    ("note", moderation.note),
    ("act", moderation.act),
    ("appeals", moderation.appeals),
    ("decide", moderation.decide),
    ("role", moderation.role),
    ("audit", moderation.audit),
):
    admin_app.command(name)(command)
app.add_typer(admin_app, name="admin")


def main() -> None:
    app()
