"""``kabar chat <chat>``: an interactive, live conversation in the terminal.

prompt_toolkit owns the input line; ``patch_stdout`` lets incoming messages
print *above* it while you type. The session runs realtime (WebSocket, with
the long-poll fallback), so messages from others appear as they are sent — and
so do new articles from public accounts you follow with notifications on.
Commands: ``/file PATH`` sends a file, ``/quit`` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
from pathlib import Path
from typing import Annotated

import typer
from prompt_toolkit import PromptSession
from prompt_toolkit.patch_stdout import patch_stdout
from rich.console import Console

from kabar.cli.messaging import chat_for_sending
from kabar.cli.output import format_update, run
from kabar.cli.signin import signed_in
from kabar.client import Session
from kabar.client.errors import ClientError
from kabar.client.models import ArticlePublished, DeviceWarning, Update
from kabar.client.updates import Subscription

HISTORY_LINES = 20


def chat(
    chat: Annotated[str, typer.Argument(help="@username, a group title, or a chat id")],
) -> None:
    """Chat live: new messages appear while you type. /quit to leave."""

    async def work() -> None:
        async with signed_in() as (session, _):
            conversation = await chat_for_sending(session, chat)
            await _loop(session, conversation.conversation_id, conversation.name(session.username))

    run(work)


async def _loop(session: Session, conversation_id: str, name: str) -> None:
    me = session.username
    updates = session.subscribe()
    await session.start()
    with patch_stdout(raw=True):
        console = Console(highlight=False, soft_wrap=True, force_terminal=False)
        console.print(f"[bold]{name}[/bold] — end-to-end encrypted. /quit to leave.")
        for item in session.history(conversation_id, HISTORY_LINES):
            console.print(format_update(item, me))
        printer = asyncio.create_task(_print_updates(console, updates, conversation_id, me))
        prompt: PromptSession[str] = PromptSession()
        try:
            while True:
                try:
                    text = (await prompt.prompt_async(f"{me}> ")).strip()
                except (EOFError, KeyboardInterrupt):
                    break
                if text in ("/quit", "/exit"):
                    break
                if text:
                    await _send(console, session, conversation_id, text)
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer
            updates.close()
            await session.stop()


async def _print_updates(
    console: Console, updates: Subscription, conversation_id: str, me: str
) -> None:
    async for update in updates:
        if _belongs(update, conversation_id):
            console.print(format_update(update, me))


def _belongs(update: Update, conversation_id: str) -> bool:
    if isinstance(update, DeviceWarning | ArticlePublished):
        return True  # a new article from an account you follow shows in any chat
    return update.conversation_id == conversation_id and not (hasattr(update, "own") and update.own)


async def _send(console: Console, session: Session, conversation_id: str, text: str) -> None:
    try:
        if text.startswith("/file "):
            name, data = await asyncio.to_thread(_read, text[6:].strip())
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            message = await session.send_file(conversation_id, data, name, mime)
        else:
            message = await session.send_text(conversation_id, text)
        console.print(format_update(message, session.username))
    except (ClientError, OSError) as exc:
        console.print(f"[red]not sent:[/red] {exc}")


def _read(path_text: str) -> tuple[str, bytes]:
    path = Path(path_text).expanduser()
    return path.name, path.read_bytes()
