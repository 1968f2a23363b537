"""The device directory: every device (contacts' and our own) this client knows and trusts.

Entries are :class:`DeviceKeys` whose self-signature was checked, trusted on
first use. Olm decryption looks senders up here to bind a to-device message's
Curve25519 key to a username, device id and Ed25519 key; key forwarding asks
it whether a requester is one of our own *verified* devices. A device whose
keys changed, or a newly added one, starts unverified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kabar.client.crypto.device import DeviceKeys
from kabar.client.crypto.safety import DeviceChanges, diff_devices


@dataclass(frozen=True, slots=True)
class KnownDevice:
    keys: DeviceKeys
    verified: bool = False


class DeviceDirectory:
    def __init__(self, known: Iterable[KnownDevice] = ()) -> None:
        self._users: dict[str, dict[str, KnownDevice]] = {}
        self._by_curve: dict[str, KnownDevice] = {}
        for entry in known:
            self._put(entry)

    def knows(self, username: str) -> bool:
        return username in self._users

    def update(self, username: str, devices: Iterable[DeviceKeys]) -> DeviceChanges:
        """Replace ``username``'s device list with the server's current one; report changes."""
        current = {d.device_id: d for d in devices if d.username == username}
        old = self._users.get(username, {})
        changes = diff_devices({d: e.keys for d, e in old.items()}, current)
        for entry in old.values():
            self._by_curve.pop(entry.keys.curve25519, None)
        self._users[username] = {}
        for device_id, keys in current.items():
            kept = old.get(device_id)
            verified = kept is not None and kept.verified and kept.keys == keys
            self._put(KnownDevice(keys, verified))
        return changes

    def get(self, username: str, device_id: str) -> DeviceKeys | None:
        entry = self._users.get(username, {}).get(device_id)
        return entry.keys if entry else None

    def by_curve25519(self, curve25519: str) -> DeviceKeys | None:
        entry = self._by_curve.get(curve25519)
        return entry.keys if entry else None

    def devices(self, username: str) -> list[DeviceKeys]:
        return [e.keys for _, e in sorted(self._users.get(username, {}).items())]

    def is_verified(self, username: str, device_id: str) -> bool:
        entry = self._users.get(username, {}).get(device_id)
        return entry is not None and entry.verified

    def mark_verified(self, username: str, device_ids: Iterable[str] | None = None) -> None:
        """Record an out-of-band check (e.g. a compared safety number) of these devices."""
        entries = self._users.get(username, {})
        for device_id in entries if device_ids is None else device_ids:
            if device_id in entries:
                self._put(KnownDevice(entries[device_id].keys, True))

    def entries(self) -> list[KnownDevice]:
        """Everything, for the local store."""
        return [e for _, devs in sorted(self._users.items()) for _, e in sorted(devs.items())]

    def _put(self, entry: KnownDevice) -> None:
        self._users.setdefault(entry.keys.username, {})[entry.keys.device_id] = entry
        self._by_curve[entry.keys.curve25519] = entry
