"""Whose devices we know: fetching and checking device lists, and warning when they change.

Device lists come from the server's key directory (``POST /v1/keys/query``);
every entry's self-signature is checked (``DeviceKeys.from_upload``) before it
enters the directory, and a list is trusted on first use. A list is *fresh*
until the server says it changed (``member.devices_changed``, a new member) or
the session restarts; the send path refreshes stale lists before sharing a
room key, so a new or removed device is seen before the next message
(DESIGN §4). A change to a list we knew before becomes a
:class:`~kabar.client.models.DeviceWarning`.

The tracker also remembers, for good, which account and device every
Curve25519 key ever belonged to. That is how an incoming message's
server-reported sender device is checked against the key its Megolm session
came from — also for history sent by a device that has since been removed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from kabar.client.api import Api
from kabar.client.crypto.device import DeviceKeys
from kabar.client.crypto.errors import CryptoError
from kabar.client.crypto.safety import safety_number
from kabar.client.engine import CryptoEngine
from kabar.client.errors import NotFoundLocally
from kabar.client.models import DeviceInfo, DeviceWarning, SafetyNumber

log = logging.getLogger(__name__)

QUERY_CHUNK = 500
HISTORY_SETTING = "device_history"


class DeviceTracker:
    def __init__(self, api: Api, engine: CryptoEngine) -> None:
        self._api = api
        self._engine = engine
        self._fresh: set[str] = set()
        self._history: dict[str, list[str]] = engine.store.get_setting(HISTORY_SETTING, {})
        self.warnings: list[DeviceWarning] = []
        own = engine.identity.keys()
        self._remember([own])

    @property
    def own_username(self) -> str:
        return self._engine.identity.username

    def mark_stale(self, username: str) -> None:
        self._fresh.discard(username)

    def forget_freshness(self) -> None:
        self._fresh.clear()

    async def refresh(self, usernames: Iterable[str], *, force: bool = False) -> None:
        """Fetch the lists of stale (or, with ``force``, all) accounts among ``usernames``."""
        wanted = sorted({u for u in usernames if force or u not in self._fresh})
        for start in range(0, len(wanted), QUERY_CHUNK):
            chunk = wanted[start : start + QUERY_CHUNK]
            found = await self._api.query_keys(chunk)
            for username in chunk:
                self._update(username, found.get(username, []))
                self._fresh.add(username)
        if wanted:
            self._engine.directory_dirty = True
            self._engine.store.set_setting(HISTORY_SETTING, self._history)

    def _update(self, username: str, entries: list[dict[str, object]]) -> None:
        devices = []
        for entry in entries:
            device_id = str(entry.get("device_id", ""))
            try:
                devices.append(DeviceKeys.from_upload(username, device_id, entry))
            except CryptoError as exc:
                log.warning("ignoring %s/%s: %s", username, device_id, exc)
        directory = self._engine.directory
        first_look = not directory.knows(username)
        changes = directory.update(username, devices)
        self._remember(devices)
        if changes.any and not first_look:
            self.warnings.append(
                DeviceWarning(
                    username,
                    tuple(d.device_id for d in changes.added),
                    tuple(d.device_id for d in changes.changed),
                    tuple(d.device_id for d in changes.removed),
                )
            )

    def _remember(self, devices: Iterable[DeviceKeys]) -> None:
        for device in devices:
            self._history.setdefault(device.curve25519, [device.username, device.device_id])

    def devices_of(self, usernames: Iterable[str]) -> list[DeviceKeys]:
        directory = self._engine.directory
        return [d for u in sorted(set(usernames)) for d in directory.devices(u)]

    def owner_of(self, curve25519: str) -> tuple[str, str] | None:
        """The account and device a Curve25519 key belongs (or belonged) to."""
        owner = self._history.get(curve25519)
        return (owner[0], owner[1]) if owner else None

    def safety_number(self, username: str) -> SafetyNumber:
        """The number to compare with ``username``, from the lists we hold now."""
        directory, me = self._engine.directory, self.own_username
        mine = [d.ed25519 for d in directory.devices(me)]
        theirs = directory.devices(username)
        if not theirs:
            raise NotFoundLocally(f"{username} has no devices with keys")
        number = safety_number(me, mine, username, [d.ed25519 for d in theirs])
        verified = all(directory.is_verified(username, d.device_id) for d in theirs)
        devices = tuple((d.device_id, d.ed25519) for d in theirs)
        return SafetyNumber(username, number, devices, verified)

    def own_devices(self, listed: list[dict[str, Any]]) -> list[DeviceInfo]:
        """The server's list of our devices, with whether we verified each."""
        directory, me = self._engine.directory, self.own_username
        return [
            DeviceInfo(
                d["device_id"],
                d["display_name"],
                d["created_at"],
                d["last_seen_at"],
                d["current"],
                d["current"] or directory.is_verified(me, d["device_id"]),
            )
            for d in listed
        ]

    def take_warnings(self) -> list[DeviceWarning]:
        taken, self.warnings = self.warnings, []
        return taken
