"""This device's crypto machines and the store they are saved to, as one unit.

The SDK never touches vodozemac state without going through here: after every
step that moves a ratchet or consumes a key it calls :meth:`CryptoEngine.save`,
which drains the machines' :class:`CryptoChanges` into the local store (inside
the caller's store batch, if any). If a batch fails half-way, the in-memory
machines are ahead of the store; :meth:`CryptoEngine.reload` throws them away
and reads the last committed state back, so the batch can simply be replayed.
"""

from __future__ import annotations

from kabar.client.crypto.device import DeviceIdentity
from kabar.client.crypto.directory import DeviceDirectory
from kabar.client.crypto.errors import StoreError
from kabar.client.crypto.megolm import MegolmMachine, RotationPolicy
from kabar.client.crypto.olm import OlmMachine
from kabar.client.crypto.state import CryptoChanges
from kabar.client.store import DeviceStore


class CryptoEngine:
    def __init__(
        self, store: DeviceStore, identity: DeviceIdentity, policy: RotationPolicy | None = None
    ) -> None:
        self.store = store
        self.identity = identity
        self._policy = policy
        self.directory = DeviceDirectory()
        self.olm = OlmMachine(identity, self.directory)
        self.megolm = MegolmMachine(identity.keys(), policy=policy)
        self.directory_dirty = False

    @classmethod
    def create(cls, store: DeviceStore, policy: RotationPolicy | None = None) -> CryptoEngine:
        """A brand-new device identity, saved at once (before any key leaves the device)."""
        engine = cls(store, DeviceIdentity.create(store.username, store.device_id), policy)
        engine.save()
        return engine

    @classmethod
    def load(cls, store: DeviceStore, policy: RotationPolicy | None = None) -> CryptoEngine:
        snapshot = store.load_crypto()
        if snapshot.account is None:
            raise StoreError("this store holds no device identity")
        identity = DeviceIdentity.from_pickle(
            store.username, store.device_id, snapshot.account, store.pickle_key
        )
        engine = cls(store, identity, policy)
        engine._restore(snapshot)
        return engine

    def _restore(self, snapshot: CryptoChanges) -> None:
        key = self.store.pickle_key
        self.directory = DeviceDirectory(self.store.load_devices())
        self.olm = OlmMachine.restore(self.identity, self.directory, snapshot.olm_sessions, key)
        self.megolm = MegolmMachine(self.identity.keys(), policy=self._policy)
        self.megolm.restore(snapshot, key)
        self.directory_dirty = False

    def reload(self) -> None:
        """Forget unsaved in-memory state: back to what the store last committed."""
        snapshot = self.store.load_crypto()
        assert snapshot.account is not None
        self.identity = DeviceIdentity.from_pickle(
            self.store.username, self.store.device_id, snapshot.account, self.store.pickle_key
        )
        self._restore(snapshot)

    def save(self) -> None:
        """Persist every change since the last save (one transaction, or part of a batch)."""
        key = self.store.pickle_key
        changes = CryptoChanges()
        if self.identity.changed:
            changes.account = self.identity.pickle(key)
            self.identity.changed = False
        changes.olm_sessions = self.olm.changes(key)
        self.megolm.drain(key, changes)
        with self.store.batch():
            if not changes.empty:
                self.store.save_crypto(changes)
            if self.directory_dirty:
                self.store.save_devices(self.directory.entries())
                self.directory_dirty = False
