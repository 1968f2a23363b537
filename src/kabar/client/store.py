"""The device's local store: one SQLite file holding everything this device knows.

Contents: the Olm account, Olm sessions, outbound and inbound Megolm sessions
and the replay log (``crypto.state``), the device directory, decrypted message
history with a full-text index, and settings.

Encryption at rest (DESIGN §4): ``kabar.client.vault`` turns the passphrase
into the vodozemac pickle key and a data key. Every secret row — pickles
(which vodozemac already encrypts), known devices, message history including
franking keys, settings — is sealed with AES-256-GCM under the data key, bound
to its table and row key so rows cannot be swapped.

**The search index is plaintext.** Local search needs SQLite FTS5, and FTS5
cannot search ciphertext. The index is *contentless* (the text itself is not
stored twice; snippets are cut from the decrypted row), but its term lists
still reveal which words occur in which message. That is a deliberate trade:
this file lives on the user's own device, which already shows the messages;
it never goes to the server. ``secure_delete`` is on so deleted rows are
overwritten rather than left in free pages.

History, search and undecrypted events live in ``kabar.client.history``;
writes can be grouped into one transaction with :meth:`DeviceStore.batch`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kabar.client.crypto.device import DeviceKeys
from kabar.client.crypto.directory import KnownDevice
from kabar.client.crypto.errors import StoreError
from kabar.client.crypto.state import (
    CryptoChanges,
    PickledInbound,
    PickledOlmSession,
    PickledOutbound,
    SeenIndex,
)
from kabar.client.history import (
    HISTORY_SCHEMA,
    HISTORY_SCHEMA_V2,
    UNDECRYPTED_INDEX,
    HistoryEntry,
    MessageLog,
    SearchHit,
)
from kabar.client.sqlitefile import Transactions, connect, dumps
from kabar.client.vault import KdfParams, Vault

__all__ = ["DeviceStore", "HistoryEntry", "SearchHit"]

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE account (id INTEGER PRIMARY KEY CHECK (id = 1), sealed BLOB NOT NULL);
CREATE TABLE olm_sessions (session_id TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE megolm_outbound (conversation_id TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE megolm_inbound (
    conversation_id TEXT NOT NULL, sender_key TEXT NOT NULL, session_id TEXT NOT NULL,
    sealed BLOB NOT NULL, PRIMARY KEY (conversation_id, sender_key, session_id));
CREATE TABLE megolm_seen (
    sender_key TEXT NOT NULL, session_id TEXT NOT NULL, message_index INTEGER NOT NULL,
    event_id TEXT NOT NULL, PRIMARY KEY (sender_key, session_id, message_index));
CREATE TABLE devices (
    username TEXT NOT NULL, device_id TEXT NOT NULL, sealed BLOB NOT NULL,
    PRIMARY KEY (username, device_id));
CREATE TABLE settings (name TEXT PRIMARY KEY, sealed BLOB NOT NULL);
"""


class DeviceStore:
    """The local store of one device. Use from one thread at a time."""

    def __init__(self, db: sqlite3.Connection, vault: Vault) -> None:
        self._db = db
        self._tx = Transactions(db)
        self._vault = vault
        self.pickle_key = vault.pickle_key
        self.username = self._meta("username")
        self.device_id = self._meta("device_id")
        self.messages = MessageLog(self._tx, vault)

    # -- lifecycle --------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        passphrase: str,
        *,
        username: str,
        device_id: str,
        kdf: KdfParams | None = None,
    ) -> DeviceStore:
        """Create a new store file (owner-only permissions); refuse to overwrite one."""
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError as exc:
            raise StoreError(f"{path} already exists") from exc
        db = connect(path)
        master = Vault.new_master_key()
        with Transactions(db).write():
            for statement in (_SCHEMA + HISTORY_SCHEMA).split(";"):
                if statement.strip():
                    db.execute(statement)
            meta = {"schema": str(SCHEMA_VERSION), "username": username, "device_id": device_id}
            meta.update(Vault.wrap(master, passphrase, kdf or KdfParams()))
            db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        return cls(db, Vault(master))

    @classmethod
    def open(cls, path: str | os.PathLike[str], passphrase: str) -> DeviceStore:
        """Open an existing store; raise :class:`WrongPassphrase` if it does not unlock."""
        if not Path(path).is_file():
            raise StoreError(f"no store at {path}")
        try:
            db = connect(path)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a kabar device store") from exc
        try:
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if int(meta["schema"]) > SCHEMA_VERSION:
                raise StoreError(f"{path} was written by a newer kabar")
            master = Vault.unwrap(meta, passphrase)
            _upgrade(db, int(meta["schema"]))
        except (sqlite3.DatabaseError, KeyError, ValueError, StoreError) as exc:
            db.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"{path} is not a kabar device store") from exc
        return cls(db, Vault(master))

    def change_passphrase(self, old: str, new: str, kdf: KdfParams | None = None) -> None:
        """Rewrap the master key under ``new``; the old passphrase must be right."""
        meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
        master = Vault.unwrap(meta, old)
        record = Vault.wrap(master, new, kdf or KdfParams(**json.loads(meta["kdf"])))
        with self._tx.write():
            self._db.executemany(
                "UPDATE meta SET value = ? WHERE name = ?", [(v, k) for k, v in record.items()]
            )

    @staticmethod
    def delete(path: str | os.PathLike[str]) -> None:
        """Remove a store file with its WAL and shared-memory companions (after logout)."""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{os.fspath(path)}{suffix}").unlink()

    def close(self) -> None:
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()

    def __enter__(self) -> DeviceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def batch(self, *, durable: bool = True) -> Iterator[None]:
        """Group every write inside into one transaction (one fsync, all or nothing).

        ``durable=False`` skips the fsync; see ``kabar.client.sqlitefile`` for when
        that is safe.
        """
        with self._tx.batch(durable=durable):
            yield

    # -- crypto state -----------------------------------------------------------

    def save_crypto(self, changes: CryptoChanges) -> None:
        """Write one batch of crypto changes atomically."""
        db = self._db
        with self._tx.write():
            if changes.account is not None:
                db.execute(
                    "INSERT OR REPLACE INTO account VALUES (1, ?)",
                    (self._seal("account", "1", changes.account.encode()),),
                )
            for olm in changes.olm_sessions:
                db.execute(
                    "INSERT OR REPLACE INTO olm_sessions VALUES (?, ?)",
                    (olm.session_id, self._seal_record("olm", olm.session_id, olm)),
                )
            for out in changes.outbound:
                sealed = self._seal_record("outbound", out.conversation_id, out)
                db.execute(
                    "INSERT OR REPLACE INTO megolm_outbound VALUES (?, ?)",
                    (out.conversation_id, sealed),
                )
            db.executemany(
                "DELETE FROM megolm_outbound WHERE conversation_id = ?",
                [(c,) for c in changes.discarded_outbound],
            )
            for inb in changes.inbound:
                row_key = f"{inb.conversation_id}|{inb.sender_key}|{inb.session_id}"
                db.execute(
                    "INSERT OR REPLACE INTO megolm_inbound VALUES (?, ?, ?, ?)",
                    (
                        inb.conversation_id,
                        inb.sender_key,
                        inb.session_id,
                        self._seal_record("inbound", row_key, inb),
                    ),
                )
            db.executemany(
                "INSERT OR IGNORE INTO megolm_seen VALUES (?, ?, ?, ?)",
                [dataclasses.astuple(s) for s in changes.seen],
            )

    def load_crypto(self) -> CryptoChanges:
        """Everything saved so far, as one snapshot (``account`` is None for a new device)."""
        db = self._db
        row = db.execute("SELECT sealed FROM account").fetchone()
        snapshot = CryptoChanges(
            account=self._open("account", "1", row[0]).decode() if row else None
        )
        for session_id, sealed in db.execute("SELECT session_id, sealed FROM olm_sessions"):
            snapshot.olm_sessions.append(
                PickledOlmSession(**self._open_record("olm", session_id, sealed))
            )
        for conversation_id, sealed in db.execute("SELECT * FROM megolm_outbound"):
            fields = self._open_record("outbound", conversation_id, sealed)
            fields["shared_with"] = tuple(fields["shared_with"])
            snapshot.outbound.append(PickledOutbound(**fields))
        for conversation_id, sender_key, session_id, sealed in db.execute(
            "SELECT * FROM megolm_inbound"
        ):
            row_key = f"{conversation_id}|{sender_key}|{session_id}"
            snapshot.inbound.append(PickledInbound(**self._open_record("inbound", row_key, sealed)))
        snapshot.seen = [SeenIndex(*r) for r in db.execute("SELECT * FROM megolm_seen")]
        return snapshot

    def save_devices(self, devices: Iterable[KnownDevice]) -> None:
        """Replace the stored directory with ``devices`` (removed devices are forgotten)."""
        with self._tx.write():
            self._db.execute("DELETE FROM devices")
            for entry in devices:
                keys = entry.keys
                record = {**dataclasses.asdict(keys), "verified": entry.verified}
                sealed = self._seal("devices", f"{keys.username}|{keys.device_id}", dumps(record))
                self._db.execute(
                    "INSERT OR REPLACE INTO devices VALUES (?, ?, ?)",
                    (keys.username, keys.device_id, sealed),
                )

    def load_devices(self) -> list[KnownDevice]:
        out = []
        for username, device_id, sealed in self._db.execute("SELECT * FROM devices"):
            record = json.loads(self._open("devices", f"{username}|{device_id}", sealed))
            verified = bool(record.pop("verified"))
            out.append(KnownDevice(DeviceKeys(**record), verified))
        return out

    # -- history and search (kept here for convenience; see kabar.client.history) ----------

    def add_message(self, entry: HistoryEntry) -> bool:
        return self.messages.add(entry)

    def message(self, event_id: str) -> HistoryEntry | None:
        return self.messages.get(event_id)

    def history(self, conversation_id: str, limit: int = 50) -> list[HistoryEntry]:
        return self.messages.history(conversation_id, limit)

    def delete_message(self, event_id: str) -> bool:
        return self.messages.delete(event_id)

    def search(self, words: str, limit: int = 20) -> list[SearchHit]:
        return self.messages.search(words, limit)

    # -- settings ---------------------------------------------------------------

    def set_setting(self, name: str, value: Any) -> None:
        with self._tx.write():
            self._db.execute(
                "INSERT OR REPLACE INTO settings VALUES (?, ?)",
                (name, self._seal("settings", name, dumps(value))),
            )

    def get_setting(self, name: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT sealed FROM settings WHERE name = ?", (name,)).fetchone()
        return json.loads(self._open("settings", name, row[0])) if row else default

    # -- sealing ----------------------------------------------------------------

    def _seal(self, table: str, row_key: str, plaintext: bytes) -> bytes:
        return self._vault.seal(table, row_key, plaintext)

    def _open(self, table: str, row_key: str, sealed: bytes) -> bytes:
        return self._vault.open(table, row_key, sealed)

    def _seal_record(self, table: str, row_key: str, record: Any) -> bytes:
        return self._seal(table, row_key, dumps(dataclasses.asdict(record)))

    def _open_record(self, table: str, row_key: str, sealed: bytes) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self._open(table, row_key, sealed))
        return value

    def _meta(self, name: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise StoreError(f"store metadata {name!r} is missing")
        return str(row[0])


def _upgrade(db: sqlite3.Connection, schema: int) -> None:
    """Bring a store written by an older kabar up to this version's tables."""
    if schema < 2:
        with Transactions(db).write():
            db.execute(HISTORY_SCHEMA_V2)
            db.execute(UNDECRYPTED_INDEX)
            db.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (str(SCHEMA_VERSION),))
