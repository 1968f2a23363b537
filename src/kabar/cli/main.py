"""The ``kabar`` command line."""

from __future__ import annotations

import typer

from kabar.cli import server

app = typer.Typer(
    name="kabar",
    help="kabar: private chats only their participants can read, public voices anyone can follow.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(server.serve)
app.command("demo")(server.demo)
app.add_typer(server.db_app, name="db")


def main() -> None:
    app()
