"""In-memory stand-ins for the server, and a device wired the way the SDK will wire one.

For tests and examples (like ``trio.testing``): :class:`FakeServer` plays the
key directory (identity uploads, one-time key claims, fallback keys) and the
to-device relay; :class:`TestDevice` glues ``device``, ``directory``, ``olm``,
``megolm`` and ``forwarding`` together without any networking. The glue shows
the order of operations the real SDK must follow when sending: refresh device
lists, ``prepare``, open missing Olm sessions from claimed keys, send the room
key, ``mark_shared``, then encrypt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kabar.client.crypto.device import DeviceIdentity, DeviceKeys
from kabar.client.crypto.directory import DeviceDirectory
from kabar.client.crypto.errors import RejectedPayload, StoreError
from kabar.client.crypto.forwarding import (
    FORWARDED_KEY,
    KEY_REQUEST,
    KeyRequest,
    accept_forwarded_key,
    answer_request,
)
from kabar.client.crypto.megolm import ROOM_KEY, DecryptResult, MegolmMachine, RotationPolicy
from kabar.client.crypto.olm import OlmMachine, ToDeviceMessage
from kabar.client.crypto.safety import DeviceChanges
from kabar.client.crypto.state import CryptoChanges
from kabar.client.store import DeviceStore
from kabar.ids import new_device_id

DeviceAddress = tuple[str, str]


@dataclass
class FakeServer:
    """Key directory and to-device relay; stores only what a real server would see."""

    identities: dict[DeviceAddress, dict[str, str]] = field(default_factory=dict)
    one_time_keys: dict[DeviceAddress, list[dict[str, str]]] = field(default_factory=dict)
    fallback_keys: dict[DeviceAddress, dict[str, str]] = field(default_factory=dict)
    inboxes: dict[DeviceAddress, list[dict[str, Any]]] = field(default_factory=dict)

    def upload(
        self,
        address: DeviceAddress,
        identity: dict[str, str] | None = None,
        one_time_keys: Iterable[dict[str, str]] = (),
        fallback: dict[str, str] | None = None,
    ) -> int:
        if identity is not None:
            self.identities[address] = identity
        stock = self.one_time_keys.setdefault(address, [])
        known = {k["key_id"] for k in stock}
        stock.extend(k for k in one_time_keys if k["key_id"] not in known)
        if fallback is not None:
            self.fallback_keys[address] = fallback
        return len(stock)

    def query(self, username: str) -> dict[str, dict[str, str]]:
        return {d: keys for (u, d), keys in self.identities.items() if u == username}

    def claim(self, address: DeviceAddress) -> dict[str, Any] | None:
        stock = self.one_time_keys.get(address)
        if stock:
            return dict(stock.pop(0))
        fallback = self.fallback_keys.get(address)
        return {**fallback, "fallback": True} if fallback else None

    def remove_device(self, address: DeviceAddress) -> None:
        self.identities.pop(address, None)

    def send_to_device(self, payloads: dict[DeviceAddress, dict[str, Any]]) -> None:
        for address, payload in payloads.items():
            self.inboxes.setdefault(address, []).append(payload)

    def take_inbox(self, address: DeviceAddress) -> list[dict[str, Any]]:
        return self.inboxes.pop(address, [])


class TestDevice:
    """One device: identity, directory, Olm and Megolm machines, talking via a FakeServer."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        server: FakeServer,
        username: str,
        *,
        device_id: str | None = None,
        clock: Callable[[], float] = time.time,
        policy: RotationPolicy | None = None,
        identity: DeviceIdentity | None = None,
        publish: bool = True,
    ) -> None:
        self.server = server
        self.identity = identity or DeviceIdentity.create(username, device_id or new_device_id())
        self.username, self.device_id = self.identity.username, self.identity.device_id
        self.directory = DeviceDirectory()
        self.olm = OlmMachine(self.identity, self.directory)
        self.megolm = MegolmMachine(self.identity.keys(), clock=clock, policy=policy)
        self.rejected: list[RejectedPayload] = []
        if publish:
            self.publish_keys(remaining=0)

    @classmethod
    def from_store(
        cls,
        server: FakeServer,
        store: DeviceStore,
        *,
        clock: Callable[[], float] = time.time,
        policy: RotationPolicy | None = None,
    ) -> TestDevice:
        """Bring a device back from its local store, as an app restart does."""
        snapshot = store.load_crypto()
        if snapshot.account is None:
            raise StoreError("the store holds no account yet")
        identity = DeviceIdentity.from_pickle(
            store.username, store.device_id, snapshot.account, store.pickle_key
        )
        device = cls(
            server, store.username, clock=clock, policy=policy, identity=identity, publish=False
        )
        device.directory = DeviceDirectory(store.load_devices())
        device.olm = OlmMachine.restore(
            identity, device.directory, snapshot.olm_sessions, store.pickle_key
        )
        device.megolm.restore(snapshot, store.pickle_key)
        return device

    def save(self, store: DeviceStore) -> None:
        """Persist every change since the last save, as the SDK does after each step."""
        store.save_crypto(self.changes(store.pickle_key))
        store.save_devices(self.directory.entries())

    @property
    def address(self) -> DeviceAddress:
        return (self.username, self.device_id)

    @property
    def keys(self) -> DeviceKeys:
        return self.identity.keys()

    def publish_keys(self, remaining: int) -> int:
        count = self.identity.one_time_keys_needed(remaining)
        stock = self.server.upload(
            self.address,
            self.identity.identity_upload(),
            self.identity.generate_one_time_keys(count),
            self.identity.generate_fallback_key(),
        )
        self.identity.mark_published()
        return stock

    def refresh(self, usernames: Iterable[str]) -> dict[str, DeviceChanges]:
        """Fetch and verify device lists, as the SDK does before sending."""
        changes = {}
        for username in usernames:
            devices = [
                DeviceKeys.from_upload(username, device_id, upload)
                for device_id, upload in self.server.query(username).items()
            ]
            changes[username] = self.directory.update(username, devices)
        return changes

    def recipients(self, usernames: Iterable[str]) -> list[DeviceKeys]:
        return [d for u in usernames for d in self.directory.devices(u)]

    def send(
        self, conversation_id: str, members: Iterable[str], content: dict[str, Any]
    ) -> dict[str, Any]:
        """Share the room key where needed, then encrypt; returns the envelope."""
        members = list(members)
        self.refresh(members)
        needing = self.megolm.prepare(conversation_id, self.recipients(members))
        self.send_to_device(self.megolm.room_key(conversation_id), needing)
        self.megolm.mark_shared(conversation_id, needing)
        return self.megolm.encrypt(conversation_id, content).envelope

    def send_to_device(self, content: dict[str, Any], devices: Iterable[DeviceKeys]) -> None:
        devices = list(devices)
        for device in self.olm.devices_without_session(devices):
            claimed = self.server.claim((device.username, device.device_id))
            if claimed is not None:
                self.olm.create_outbound_session(device, claimed)
        self.server.send_to_device(self.olm.encrypt(content, devices))

    def receive(self) -> list[ToDeviceMessage]:
        """Decrypt the inbox; import room keys, answer and accept own-device forwarding."""
        received = []
        for payload in self.server.take_inbox(self.address):
            try:
                message = self.olm.decrypt(payload)
            except RejectedPayload as exc:
                self.rejected.append(exc)
                continue
            received.append(message)
            own = message.sender == self.username and self.directory.is_verified(
                message.sender, message.sender_device
            )
            if message.type == ROOM_KEY:
                self.megolm.add_room_key(message)
            elif message.type == KEY_REQUEST:
                request = KeyRequest.from_content(message.content)
                answer = answer_request(request, self.megolm.inbound, from_own_verified_device=own)
                sender = self.directory.get(message.sender, message.sender_device)
                if answer is not None and sender is not None:
                    self.send_to_device(answer, [sender])
            elif message.type == FORWARDED_KEY:
                export = accept_forwarded_key(message, from_own_verified_device=own)
                if export is not None:
                    self.megolm.import_session(export)
        return received

    def request_key(self, conversation_id: str, session_id: str, sender_key: str) -> KeyRequest:
        """Ask our own other devices for a missing session."""
        self.refresh([self.username])
        request = KeyRequest.new(conversation_id, session_id, sender_key)
        others = [d for d in self.directory.devices(self.username) if d.device_id != self.device_id]
        self.send_to_device(request.to_content(), others)
        return request

    def decrypt(
        self, conversation_id: str, event_id: str, envelope: dict[str, Any]
    ) -> DecryptResult:
        return self.megolm.decrypt(conversation_id, event_id, envelope)

    def changes(self, pickle_key: bytes) -> CryptoChanges:
        changes = CryptoChanges()
        if self.identity.changed:
            changes.account = self.identity.pickle(pickle_key)
            self.identity.changed = False
        changes.olm_sessions = self.olm.changes(pickle_key)
        self.megolm.drain(pickle_key, changes)
        return changes


class FakeClock:
    """A clock for rotation tests: call it for the time, ``advance`` to move it."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
