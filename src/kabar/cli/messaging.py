"""``kabar chats``, ``send``, ``read``, ``download``, ``group …``, ``search``, ``report``.

A chat is named the way people think of it: ``@bob`` (the direct chat — ``send``
opens it if needed), a group's title, or an id (``kabar chats`` lists them).
Messages are named by the short id ``read`` prints (``e_…``, a prefix is
enough). Every command first catches up with the server, so what it shows and
sends reflects the latest keys and device lists.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any

import typer

from kabar.cli.output import emit_json, err, format_update, out, run
from kabar.cli.profile import CliError
from kabar.cli.signin import signed_in
from kabar.client import Session
from kabar.client.errors import NotFoundLocally
from kabar.client.models import Conversation, Message, to_json
from kabar.client.references import short_id

Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Chat = Annotated[str, typer.Argument(help="@username, a group title, or a chat id")]

group_app = typer.Typer(help="Create and manage group chats.", no_args_is_help=True)


async def chat_for_sending(session: Session, reference: str) -> Conversation:
    """The chat named; ``@user`` opens the direct chat with them if there is none yet."""
    if reference.startswith("@"):
        try:
            return await session.conversation(reference)
        except NotFoundLocally:
            return await session.open_direct(reference[1:])
    return await session.conversation(reference)


def chats(json_output: Json = False) -> None:
    """List your chats."""

    async def work() -> tuple[str, list[dict[str, Any]]]:
        async with signed_in() as (session, _):
            rows = []
            for conversation in await session.conversations():
                last = session.history(conversation.conversation_id, limit=1)
                preview = last[-1] if last else None
                rows.append(
                    {
                        **to_json(conversation),
                        "name": conversation.name(session.username),
                        "last": to_json(preview) if preview else None,
                    }
                )
            return session.username, rows

    me, rows = run(work, json_output=json_output)
    if json_output:
        emit_json(rows)
        return
    if not rows:
        out.print('No chats yet: `kabar send @someone "hello"` starts one.')
    for row in rows:
        last = row["last"]
        preview = f" — {last['body'][:50]}" if last and last.get("body") else ""
        size = f" ({row['member_count']} members)" if row["kind"] == "group" else ""
        out.print(f"[bold]{row['name']}[/bold]{size}  [dim]{row['conversation_id']}[/dim]{preview}")


def send(
    chat: Chat,
    text: Annotated[str | None, typer.Argument(help="the message")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="attach a file")] = None,
    json_output: Json = False,
) -> None:
    """Send an end-to-end encrypted message (and/or a file)."""
    if text is None and file is None:
        raise_usage('say something: kabar send @bob "hello" (or --file PATH)')

    async def work() -> Message:
        data = file.read_bytes() if file is not None else None
        async with signed_in() as (session, _):
            conversation = await chat_for_sending(session, chat)
            if file is not None and data is not None:
                mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                return await session.send_file(
                    conversation.conversation_id, data, file.name, mime, text
                )
            return await session.send_text(conversation.conversation_id, text or "")

    message = run(work, json_output=json_output)
    if json_output:
        emit_json(message)
    else:
        out.print(f"sent [dim]{short_id(message.event_id)}[/dim]")


def read(
    chat: Chat,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 30,
    json_output: Json = False,
) -> None:
    """Show the latest messages of a chat."""

    async def work() -> tuple[str, list[Any]]:
        async with signed_in() as (session, _):
            conversation = await session.conversation(chat)
            return session.username, session.history(conversation.conversation_id, limit)

    me, items = run(work, json_output=json_output)
    if json_output:
        emit_json(items)
        return
    for item in items:
        out.print(format_update(item, me))


def download(
    message: Annotated[str, typer.Argument(help="the message id (a prefix is enough)")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="directory to save into")] = Path(
        "."
    ),
    json_output: Json = False,
) -> None:
    """Save a message's attachments (decrypted and checked)."""

    async def work() -> list[str]:
        async with signed_in(catch_up=False) as (session, _):
            found = session.message(message)
            if not found.attachments:
                raise CliError(f"message {short_id(found.event_id)} has no attachment")
            saved = []
            out_dir.mkdir(parents=True, exist_ok=True)
            for attachment in found.attachments:
                data = await session.download(attachment)
                target = out_dir / (Path(attachment.name).name or found.event_id)
                target.write_bytes(data)
                saved.append(str(target))
            return saved

    saved = run(work, json_output=json_output)
    if json_output:
        emit_json({"saved": saved})
    else:
        for path in saved:
            out.print(f"saved {path}")


@group_app.command("create")
def group_create(
    title: Annotated[str, typer.Argument(help="the group's title")],
    members: Annotated[list[str] | None, typer.Argument(help="@usernames to add")] = None,
    json_output: Json = False,
) -> None:
    """Create a group; you own it."""

    async def work() -> Conversation:
        async with signed_in(catch_up=False) as (session, _):
            return await session.create_group(title, members or [])

    conversation = run(work, json_output=json_output)
    _done(json_output, to_json(conversation), f"created {title!r} ({conversation.conversation_id})")


@group_app.command("add")
def group_add(
    chat: Chat,
    members: Annotated[list[str], typer.Argument(help="@usernames to add")],
    json_output: Json = False,
) -> None:
    """Add members to a group (admins)."""

    async def work() -> list[str]:
        async with signed_in() as (session, _):
            conversation = await session.conversation(chat)
            return await session.add_members(conversation.conversation_id, members)

    added = run(work, json_output=json_output)
    _done(json_output, {"added": added}, f"added {', '.join(added)}")


@group_app.command("remove")
def group_remove(
    chat: Chat,
    member: Annotated[str, typer.Argument(help="@username to remove")],
    json_output: Json = False,
) -> None:
    """Remove a member (admins); they cannot read anything sent afterwards."""

    async def work() -> None:
        async with signed_in() as (session, _):
            conversation = await session.conversation(chat)
            await session.remove_member(conversation.conversation_id, member)

    run(work, json_output=json_output)
    _done(json_output, {"removed": member.lstrip("@")}, f"removed {member.lstrip('@')}")


@group_app.command("leave")
def group_leave(chat: Chat, json_output: Json = False) -> None:
    """Leave a group."""

    async def work() -> str:
        async with signed_in() as (session, _):
            conversation = await session.conversation(chat)
            await session.leave(conversation.conversation_id)
            return conversation.conversation_id

    left = run(work, json_output=json_output)
    _done(json_output, {"left": left}, "left the group")


def search(
    words: Annotated[str, typer.Argument(help="words to find (on this device only)")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    json_output: Json = False,
) -> None:
    """Search the decrypted history on this device."""

    async def work() -> tuple[str, list[Message]]:
        async with signed_in() as (session, _):
            return session.username, session.search(words, limit)

    me, found = run(work, json_output=json_output)
    if json_output:
        emit_json(found)
        return
    if not found:
        out.print("nothing found")
    for message in found:
        out.print(format_update(message, me))


def report(
    message: Annotated[str, typer.Argument(help="the message id (a prefix is enough)")],
    reason: Annotated[str | None, typer.Option(help="what is wrong with it")] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="the moderation policy item (default: other)")
    ] = None,
    json_output: Json = False,
) -> None:
    """Report a message you received; only that message is revealed to the moderators."""

    async def work() -> dict[str, Any]:
        async with signed_in(catch_up=False) as (session, _):
            return await session.report(message, reason, policy)

    result = run(work, json_output=json_output)
    _done(
        json_output,
        result,
        f"reported {short_id(result['event_id'])} (report {result['report_id']})",
    )


def delete(
    message: Annotated[str, typer.Argument(help="the message id (a prefix is enough)")],
    json_output: Json = False,
) -> None:
    """Delete a message for everyone: your own, or any in a group you administer."""

    async def work() -> str:
        async with signed_in(catch_up=False) as (session, _):
            event_id = session.references.event_id(message)
            await session.delete_message(message)
            return event_id

    event_id = run(work, json_output=json_output)
    _done(json_output, {"deleted": event_id}, f"deleted {short_id(event_id)} for everyone")


def _done(json_output: bool, value: Any, text: str) -> None:
    if json_output:
        emit_json(value)
    else:
        out.print(text)


def raise_usage(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)
