"""``kabar register``, ``login``, ``logout``, ``devices``, ``verify``, ``backup restore``.

A device is created by ``register`` (a new account) or ``login`` (another
device of an account); its encrypted store goes under the config directory and
the profile remembers the server. The recovery key is shown once, at
``register``; ``login --recovery-key`` (or ``backup restore``) uses it to read
old messages on a new device.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from kabar.cli.output import emit_json, err, interactive, out, run
from kabar.cli.profile import (
    CliError,
    Profile,
    devices_directory,
    kdf_params,
    passphrase,
    secret,
)
from kabar.cli.signin import signed_in
from kabar.client import Client, Session
from kabar.client.crypto.errors import CryptoError
from kabar.client.models import to_json

Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Server = Annotated[str | None, typer.Option("--server", "-s", help="server URL (remembered)")]
Username = Annotated[str | None, typer.Option("--username", "-u", help="your username")]
DeviceName = Annotated[
    str | None, typer.Option("--device-name", help="how this device shows in `kabar devices`")
]

devices_app = typer.Typer(help="This account's devices.", invoke_without_command=True)
backup_app = typer.Typer(help="The encrypted key backup.", no_args_is_help=True)


def _start(server: str | None, username: str | None) -> tuple[Profile, str, str, str]:
    profile = Profile.load()
    if profile.signed_in:
        raise CliError(
            f"already logged in as {profile.username} on {profile.server}: `kabar logout` first"
        )
    url = (server or profile.server).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"the server URL must start with http:// or https:// (got {url!r})")
    name = (username or typer.prompt("Username")).strip().lstrip("@")
    password = secret("KABAR_PASSWORD", "Password")
    return profile, url, name, password


def _remember(url: str, session: Session) -> None:
    Profile(url, session.username, session.device_id, str(session.path)).save()


def register(
    server: Server = None,
    username: Username = None,
    display_name: Annotated[str | None, typer.Option(help="the name others see")] = None,
    device_name: DeviceName = None,
    json_output: Json = False,
) -> None:
    """Create an account and this device; shows the recovery key once."""

    async def work() -> dict[str, Any]:
        _, url, name, password = _start(server, username)
        client = Client(url, kdf=kdf_params())
        registration = await client.register(
            name,
            password,
            passphrase(new=True),
            devices_directory(),
            display_name=display_name,
            device_name=device_name or "kabar CLI",
        )
        session = registration.session
        _remember(url, session)
        await session.close()
        return {
            "username": session.username,
            "device_id": session.device_id,
            "server": url,
            "recovery_key": registration.recovery_key,
        }

    result = run(work, json_output=json_output)
    if json_output:
        emit_json(result)
        return
    out.print(f"Welcome, [bold]{result['username']}[/bold]! This device is {result['device_id']}.")
    out.print("\nYour [bold]recovery key[/bold] (shown only now; keep it somewhere safe):")
    out.print(f"\n    [bold green]{result['recovery_key']}[/bold green]\n")
    out.print("It opens your encrypted key backup, so a new device can read old messages.")


def login(
    server: Server = None,
    username: Username = None,
    device_name: DeviceName = None,
    recovery_key: Annotated[
        str | None,
        typer.Option(help="restore old messages from the key backup (or $KABAR_RECOVERY_KEY)"),
    ] = None,
    json_output: Json = False,
) -> None:
    """Sign in as a new device of your account."""

    async def work() -> dict[str, Any]:
        _, url, name, password = _start(server, username)
        key = recovery_key or os.environ.get("KABAR_RECOVERY_KEY")
        if key is None and interactive() and not json_output:
            key = typer.prompt("Recovery key (Enter to skip)", default="", show_default=False)
        client = Client(url, kdf=kdf_params())
        session = await client.login(
            name,
            password,
            passphrase(new=True),
            devices_directory(),
            device_name=device_name or "kabar CLI",
        )
        _remember(url, session)
        restored, problem = 0, None
        try:
            if key:
                try:
                    restored = await session.restore_backup(key)
                except CryptoError as exc:  # logged in all the same: they can retry later
                    problem = f"{exc}; try again with `kabar backup restore`"
            await session.sync()
        finally:
            await session.close()
        return {
            "username": session.username,
            "device_id": session.device_id,
            "server": url,
            "restored_sessions": restored,
            "backup_problem": problem,
        }

    result = run(work, json_output=json_output)
    if json_output:
        emit_json(result)
        return
    out.print(f"Logged in as [bold]{result['username']}[/bold] (device {result['device_id']}).")
    if result["restored_sessions"]:
        out.print(f"Restored {result['restored_sessions']} keys from the backup.")
    if result["backup_problem"]:
        err.print(f"[yellow]warning:[/yellow] {result['backup_problem']}")


def logout(json_output: Json = False) -> None:
    """Sign this device out and delete its local store."""

    async def work() -> str:
        profile = Profile.load()
        username, _ = profile.require_signed_in()
        async with signed_in(catch_up=False) as (session, _):
            await session.logout()
        Profile(profile.server).save()
        return username

    username = run(work, json_output=json_output)
    if json_output:
        emit_json({"logged_out": username})
    else:
        out.print(f"Logged out {username}; this device's keys and history are deleted.")


@devices_app.callback()
def devices(ctx: typer.Context, json_output: Json = False) -> None:
    """List this account's devices."""
    if ctx.invoked_subcommand is not None:
        return

    async def work() -> list[Any]:
        async with signed_in(catch_up=False) as (session, _):
            return list(await session.devices())

    found = run(work, json_output=json_output)
    if json_output:
        emit_json(found)
        return
    for device in found:
        marks = " [green](this device)[/green]" if device.current else ""
        marks += "" if device.verified else " [yellow](not verified)[/yellow]"
        out.print(f"{device.device_id}  {device.display_name}{marks}")


@devices_app.command("revoke")
def revoke(device_id: str, json_output: Json = False) -> None:
    """Sign one of your other devices out."""

    async def work() -> None:
        async with signed_in(catch_up=False) as (session, _):
            if device_id == session.device_id:
                raise CliError("that is this device: use `kabar logout`")
            await session.revoke_device(device_id)

    run(work, json_output=json_output)
    if json_output:
        emit_json({"revoked": device_id})
    else:
        out.print(f"Signed out {device_id}.")


def verify(
    user: Annotated[str, typer.Argument(help="@username (your own to verify your devices)")],
    confirm: Annotated[bool, typer.Option("--confirm", help="mark as verified")] = False,
    json_output: Json = False,
) -> None:
    """Show the safety number with someone; mark them verified once it matches."""

    async def work() -> dict[str, Any]:
        async with signed_in() as (session, _):
            number = await session.safety_number(user)
            if not json_output:
                out.print(f"Safety number with [bold]@{number.username}[/bold]:\n")
                groups = number.number.split()
                for row in range(0, len(groups), 4):
                    out.print("    " + "  ".join(groups[row : row + 4]))
                out.print("\nTheir devices: " + ", ".join(d for d, _ in number.devices))
            agreed = confirm or (
                not json_output
                and not number.verified
                and interactive()
                and typer.confirm("Does it match what they see?", default=False)
            )
            if agreed:
                await session.verify(number.username, [d for d, _ in number.devices])
            return {**to_json(number), "verified": number.verified or agreed}

    result = run(work, json_output=json_output)
    if json_output:
        emit_json(result)
    elif result["verified"]:
        out.print("[green]verified[/green]")
    else:
        err.print("not verified: compare the number in person or on a call, then --confirm")


@backup_app.command("restore")
def backup_restore(
    recovery_key: Annotated[str | None, typer.Argument(help="the recovery key")] = None,
    json_output: Json = False,
) -> None:
    """Read old messages on this device: import every key from the backup."""

    async def work() -> int:
        key = recovery_key or secret("KABAR_RECOVERY_KEY", "Recovery key")
        async with signed_in(catch_up=False) as (session, _):
            restored = await session.restore_backup(key)
            await session.sync()
            return restored

    restored = run(work, json_output=json_output)
    if json_output:
        emit_json({"restored_sessions": restored})
    else:
        out.print(f"Restored {restored} keys from the backup.")
