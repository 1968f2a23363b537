"""Opening the signed-in device for a command, caught up with the server first."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from kabar.cli.output import err, warn_devices
from kabar.cli.profile import CliError, Profile, passphrase
from kabar.client import Client, Session
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
