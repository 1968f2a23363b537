"""``kabar serve``, ``kabar demo`` and ``kabar db …``: running and migrating a server."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from sqlalchemy.engine import make_url

from kabar.app import build_services, create_app, shutdown_services
from kabar.cli.demo import MODERATOR, editors, seed_public
from kabar.config import Config, load_config, sqlalchemy_url
from kabar.errors import Conflict, KabarError
from kabar.http.protocol import KabarHttpProtocol
from kabar.logs import configure as configure_logging
from kabar.store import migrate
from kabar.store.database import Database

console = Console(stderr=True)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="kabar.toml to read (default: ./kabar.toml if present)"),
]

DEMO_PASSWORD = "kabar-demo-password"
# How kabar is served (tests serve in-process with the same options).
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    # httptools, one write per response, hot routes without ASGI (http/protocol.py says why).
    "http": KabarHttpProtocol,
    "ws": "websockets-sansio",
    "access_log": False,
    # kabar reads X-Forwarded-For and -Proto itself, believing only server.trusted_proxies;
    # uvicorn's own rewriting (it trusts 127.0.0.1 whatever kabar is told) let a local
    # process choose its address for rate limits, and cost a middleware layer per request.
    "proxy_headers": False,
    "server_header": False,
}
DEMO_ACCOUNTS = (
    ("alice", "Alice Moreau"),
    ("bob", "Bob Okafor"),
    ("carol", "Carol Nguyen"),
)


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except KabarError as exc:
        console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from None


def _serve(config: Config, *, run_migrations: bool) -> None:
    configure_logging(config.server.log_level, config.server.log_json)
    uvicorn.run(
        create_app(config, run_migrations=run_migrations, freeze_gc=True),
        host=config.server.host,
        port=config.server.port,
        log_level="warning",
        timeout_graceful_shutdown=5,
        **UVICORN_OPTIONS,
    )


def serve(
    config_path: ConfigOption = None,
    migrate_first: Annotated[
        bool, typer.Option("--migrate", help="upgrade the schema before serving")
    ] = False,
) -> None:
    """Serve kabar (HTTP API, WebSocket stream, web pages)."""
    config = _config(config_path)
    _serve(config, run_migrations=migrate_first)


def demo(config_path: ConfigOption = None) -> None:
    """Migrate, seed demo accounts, conversations and public accounts (once), then serve."""
    config = _config(config_path)
    asyncio.run(_seed(config))
    url = config.server.public_url
    console.print(f"\n[bold green]kabar demo[/bold green] is starting at [link={url}]{url}[/link]")
    console.print(
        f"  demo accounts: {', '.join(a for a, _ in DEMO_ACCOUNTS)} — password: {DEMO_PASSWORD}"
    )
    console.print(
        f"  public-account editors: {', '.join(editors())}; instance admin: admin (same password)"
    )
    console.print(
        f"  moderator: {MODERATOR[0]} (same password): kabar admin queue, or {url}/console"
    )
    console.print(f"  public pages: {url}/   e.g. {url}/@harbour_herald")
    console.print(f"  web app: {url}/app   (open it in two browsers and chat)")
    console.print(f"  API: {url}/v1/docs   health: {url}/healthz   stop with Ctrl-C\n")
    _serve(config, run_migrations=False)


async def _seed(config: Config) -> None:
    services = await build_services(config, run_migrations=True)
    try:
        sessions = {}
        for username, name in DEMO_ACCOUNTS:
            try:
                sessions[username] = await services.accounts.register(
                    username, DEMO_PASSWORD, name, "demo seed", "127.0.0.1"
                )
            except Conflict:
                console.print(f"demo account {username} exists already")
        if len(sessions) == len(DEMO_ACCOUNTS):
            alice = await services.auth.authenticate(sessions["alice"].access_token)
            await services.conversations.create_group(alice, "kabar demo group", ["bob", "carol"])
            await services.conversations.open_direct(alice, "bob")
            for session in sessions.values():
                principal = await services.auth.authenticate(session.access_token)
                await services.accounts.logout(principal)
            console.print("seeded demo accounts alice, bob and carol, a group and a direct chat")
        handles = await seed_public(services, DEMO_PASSWORD)
        if handles:
            console.print(f"seeded public accounts {', '.join('@' + h for h in handles)}")
    finally:
        await shutdown_services(services)


@db_app.command("upgrade")
def db_upgrade(config_path: ConfigOption = None) -> None:
    """Apply every pending migration (safe to run repeatedly)."""
    config = _config(config_path)

    async def run() -> str | None:
        database = Database(config.database)
        try:
            await migrate.upgrade(database)
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    console.print(f"schema at revision {asyncio.run(run())}")


@db_app.command("current")
def db_current(config_path: ConfigOption = None) -> None:
    """Show the schema revision and whether it is current."""
    config = _config(config_path)

    async def run() -> tuple[str | None, str]:
        database = Database(config.database)
        try:
            return await migrate.current_revision(database), migrate.head_revision()
        finally:
            await database.dispose()

    current, head = asyncio.run(run())
    state = "current" if current == head else f"behind (head is {head})"
    console.print(f"schema revision {current}: {state}")


@db_app.command("backup")
def db_backup(
    destination: Annotated[Path, typer.Argument(help="file to write the copy to")],
    config_path: ConfigOption = None,
) -> None:
    """Copy a SQLite database consistently while kabar runs (PostgreSQL: use pg_dump)."""
    config = _config(config_path)
    url = make_url(sqlalchemy_url(config.database.url))
    if url.get_backend_name() != "sqlite" or not url.database:
        console.print(
            "[red]error:[/red] db backup copies SQLite databases; for PostgreSQL use pg_dump"
        )
        raise typer.Exit(2)
    if destination.exists():
        console.print(f"[red]error:[/red] {destination} exists; choose a new file")
        raise typer.Exit(2)
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        # SQLite's online backup: a consistent snapshot even while the writer commits.
        source.backup(target)
    finally:
        target.close()
        source.close()
    console.print(f"copied {url.database} to {destination}")
