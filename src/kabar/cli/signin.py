"""Opening the signed-in device for a command, caught up with the server first — or, for
public reading, an anonymous reader when there is no device on that server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from kabar.cli.output import err, warn_devices
from kabar.cli.profile import CliError, Profile, passphrase
from kabar.client import Client, PublicReader, Session
from kabar.client.crypto.errors import StoreError, WrongPassphrase
from kabar.client.models import Update


@contextlib.asynccontextmanager
async def signed_in(*, catch_up: bool = True) -> AsyncIterator[tuple[Session, list[Update]]]:
    """The session of the profile's device, synced (device warnings shown on stderr)."""
    profile = Profile.load()
    _, path = profile.require_signed_in()
    if not path.exists():
        raise CliError(f"the device store {path} is gone: run `kabar login` again", 2)
    try:
        session = await Client.open(path, passphrase())
    except WrongPassphrase:
        raise
    except StoreError as exc:
        raise CliError(f"cannot open {path}: {exc}") from None
    try:
        updates: list[Update] = []
        if catch_up:
            status = err.status("catching up…") if err.is_terminal else contextlib.nullcontext()
            with status:
                updates = await session.sync()
            warn_devices(updates)
        yield session, updates
    finally:
        await session.close()


def same_server(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


@contextlib.asynccontextmanager
async def public_reader(server: str | None = None) -> AsyncIterator[PublicReader]:
    """An anonymous reader of ``server`` (default: the profile's server); no passphrase."""
    async with PublicReader.connect(server or Profile.load().server) as reader:
        yield reader


@contextlib.asynccontextmanager
async def reader_on(server: str) -> AsyncIterator[PublicReader]:
    """``session.public`` when this profile is signed in on ``server`` (it also sees your
    drafts and checks signing keys against the key directory), else an anonymous reader."""
    profile = Profile.load()
    if profile.signed_in and same_server(profile.server, server):
        async with signed_in(catch_up=False) as (session, _):
            yield session.public
    else:
        async with public_reader(server) as reader:
            yield reader
