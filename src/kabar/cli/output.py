"""How the CLI talks back: Rich text for people, JSON for scripts, one line per mistake.

:func:`run` is the only place commands enter the event loop; every failure a
user can cause — a wrong password or passphrase, an unknown chat, an
unreachable server, a refused request — becomes exactly one line on stderr
(and, with ``--json``, ``{"error": {"code", "message"}}`` on stdout) and a
non-zero exit status. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column

from kabar.cli.profile import CliError
from kabar.client.crypto.errors import CryptoError, InvalidRecoveryKey, WrongPassphrase
from kabar.client.errors import (
    AmbiguousReference,
    ApiError,
    ClientError,
    NotFoundLocally,
    ServerUnreachable,
)
from kabar.client.models import (
    ArticlePublished,
    DeviceWarning,
    Message,
    Notice,
    UnableToDecrypt,
    Update,
    to_json,
)
from kabar.client.references import short_id

T = TypeVar("T")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def id_column(header: str) -> Column:
    """A table column for ids: never cut short, since people copy them into the next command."""
    return Column(header, no_wrap=True, min_width=28)


def run(work: Callable[[], Awaitable[T]], *, json_output: bool = False) -> T:
    """Run one command's coroutine; turn every user-facing failure into one line."""
    try:
        return asyncio.run(_call(work))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except (CliError, ClientError, CryptoError, OSError) as exc:
        code, message = describe(exc)
        if json_output:
            print(json.dumps({"error": {"code": code, "message": message}}))
        err.print(f"[red]error:[/red] {escape(message)}")
        raise typer.Exit(exc.exit_code if isinstance(exc, CliError) else 1) from None


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


def describe(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ApiError):
        return exc.code, exc.detail
    if isinstance(exc, ServerUnreachable):
        return "server_unreachable", f"{exc} — is the server running?"
    if isinstance(exc, NotFoundLocally):
        return "not_found", str(exc)
    if isinstance(exc, AmbiguousReference):
        return "ambiguous", f"{exc}: {', '.join(exc.candidates[:5])}"
    if isinstance(exc, WrongPassphrase):
        return "wrong_passphrase", "wrong passphrase for this device's store"
    if isinstance(exc, InvalidRecoveryKey):
        return "invalid_recovery_key", f"{exc}; check for typos"
    if isinstance(exc, CryptoError):
        return type(exc).__name__, str(exc)
    if isinstance(exc, CliError):
        return "usage", str(exc)
    if isinstance(exc, OSError):
        return "os_error", f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    return type(exc).__name__, str(exc)


def emit_json(value: Any) -> None:
    print(json.dumps(to_json(value), ensure_ascii=False, indent=None), flush=True)


def time_of(ts: int) -> str:
    return datetime.datetime.fromtimestamp(ts / 1000).strftime("%H:%M")


def format_update(update: Update, me: str) -> str:
    """One update as Rich markup, the way `read` and `chat` show it."""
    if isinstance(update, Message):
        who = "you" if update.sender == me else update.sender
        lines = [
            f"[dim]{time_of(update.ts)}[/dim] [bold]{escape(who)}[/bold]: {escape(update.body)}"
        ]
        for attachment in update.attachments:
            lines.append(
                f"    📎 {escape(attachment.name)} ({attachment.size} bytes) — "
                f"kabar download {short_id(update.event_id)}"
            )
        lines[0] += f"  [dim]{short_id(update.event_id)}[/dim]"
        return "\n".join(lines)
    if isinstance(update, UnableToDecrypt):
        why = (
            "sent before this device existed; restore the key backup"
            if update.before_device
            else (update.detail or update.reason.value)
        )
        return (
            f"[dim]{time_of(update.ts)}[/dim] [bold]{escape(update.sender)}[/bold]: "
            f"[yellow]⚠ unable to decrypt ({update.reason.value}: {escape(why)})[/yellow]"
            f"  [dim]{short_id(update.event_id)}[/dim]"
        )
    if isinstance(update, Notice):
        return f"[dim]{time_of(update.ts)} — {escape(update.text)}[/dim]"
    if isinstance(update, DeviceWarning):
        advice = f"compare it with `kabar verify @{update.username}`"
        return f"[yellow]⚠ {escape(update.text)}; {advice}[/yellow]"
    if isinstance(update, ArticlePublished):
        return (
            f"[dim]{time_of(update.ts)}[/dim] 📰 [bold]{escape(update.account_name)}[/bold] "
            f"(@{escape(update.handle)}) published [bold]{escape(update.title)}[/bold]"
            f"  [dim]kabar read-article {escape(update.reference)}[/dim]"
        )
    return str(update)


def warn_devices(updates: list[Update]) -> None:
    for update in updates:
        if isinstance(update, DeviceWarning):
            err.print(format_update(update, ""))


def interactive() -> bool:
    return sys.stdin.isatty()
