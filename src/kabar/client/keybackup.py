"""The SDK side of the server-side key backup: what to upload, when, and how to restore.

Every Megolm session this device gets — a room key, a forwarded key, its own
new outbound session — is queued (the queue is saved in the store, so a crash
does not lose it) and uploaded in batches, encrypted with
``kabar.client.crypto.backup.KeyBackup`` under the recovery key. The server
keeps one opaque blob per session and only ever replaces it with a copy that
decrypts more (see ``kabar.keys.backup``).

A device knows the backup key only if the user gave it the recovery key: the
first device creates the backup at registration (the key is shown once);
another device joins it with :meth:`BackupManager.open` and then
:meth:`~BackupManager.restore` s every session, so it reads old messages.
A device that is missing one session asks the backup for just that one
(:meth:`~BackupManager.fetch`).
"""

from __future__ import annotations

import logging
from typing import Any

from kabar.client.api import Api
from kabar.client.crypto.backup import BackupVersion, KeyBackup, RecoveryKey
from kabar.client.crypto.encoding import b64decode, b64encode
from kabar.client.crypto.errors import CryptoError
from kabar.client.crypto.inbound import ExportedSession
from kabar.client.engine import CryptoEngine
from kabar.client.errors import ApiError

log = logging.getLogger(__name__)

SETTING = "key_backup"
PENDING = "key_backup_pending"
UPLOAD_CHUNK = 200

SessionRef = tuple[str, str, str]  # (conversation_id, sender_key, session_id)


class BackupManager:
    def __init__(self, api: Api, engine: CryptoEngine) -> None:
        self._api = api
        self._engine = engine
        self._backup: KeyBackup | None = None
        self.version: int | None = None
        self._pending: set[SessionRef] = set()
        self.reload()

    def reload(self) -> None:
        store = self._engine.store
        saved = store.get_setting(SETTING)
        if saved:
            key = RecoveryKey(b64decode(saved["key"]))
            self._backup = KeyBackup(key, b64decode(saved["salt"]))
            self.version = int(saved["version"])
        self._pending = {(p[0], p[1], p[2]) for p in store.get_setting(PENDING, [])}

    @property
    def enabled(self) -> bool:
        return self._backup is not None

    async def create(self, recovery_key: RecoveryKey) -> int:
        """Start a new backup version under this key and queue every session we hold."""
        backup = KeyBackup.create(recovery_key)
        version = await self._api.create_backup_version(backup.version.to_json())
        self._use(backup, recovery_key, version)
        for export in self._engine.megolm.inbound.exports():
            self._pending.add((export.conversation_id, export.sender_key, export.session_id))
        self._save_pending()
        return version

    async def open(self, recovery_key: RecoveryKey) -> int:
        """Join the account's current backup (``WrongRecoveryKey`` if the key is not its)."""
        current = await self._api.backup_version()
        backup = KeyBackup.open(recovery_key, BackupVersion.from_json(current["data"]))
        version = int(current["version"])
        self._use(backup, recovery_key, version)
        return version

    def _use(self, backup: KeyBackup, recovery_key: RecoveryKey, version: int) -> None:
        self._backup, self.version = backup, version
        record = {
            "version": version,
            "key": b64encode(recovery_key.raw),
            "salt": b64encode(backup.version.salt),
        }
        self._engine.store.set_setting(SETTING, record)

    def queue(self, conversation_id: str, sender_key: str, session_id: str) -> None:
        if self._backup is not None:
            self._pending.add((conversation_id, sender_key, session_id))
            self._save_pending()

    async def flush(self) -> int:
        """Upload every queued session; return how many the server kept."""
        if self._backup is None or self.version is None or not self._pending:
            return 0
        inbound = self._engine.megolm.inbound
        uploads: list[dict[str, Any]] = []
        for ref in sorted(self._pending):
            export = inbound.export(*ref)
            if export is not None:
                uploads.append(
                    {
                        "conversation_id": export.conversation_id,
                        "session_id": export.session_id,
                        "first_known_index": export.first_known_index,
                        "data": self._backup.encrypt_session(export),
                    }
                )
        kept = 0
        try:
            for start in range(0, len(uploads), UPLOAD_CHUNK):
                chunk = uploads[start : start + UPLOAD_CHUNK]
                kept += (await self._api.put_backup_sessions(self.version, chunk))["stored"]
        except ApiError as exc:
            if exc.code != "backup_version_stale":
                raise
            log.warning("the key backup was replaced on another device; stopping uploads here")
            self._engine.store.set_setting(SETTING, None)
            self._backup, self.version = None, None
        self._pending.clear()
        self._save_pending()
        return kept

    async def restore(self) -> list[ExportedSession]:
        """Import every session in the backup; return those that were new or better."""
        if self._backup is None or self.version is None:
            return []
        imported: list[ExportedSession] = []
        after: dict[str, str] | None = None
        while True:
            page = await self._api.backup_sessions(self.version, after)
            for item in page["sessions"]:
                export = self._decrypt(item)
                if export is not None and self._engine.megolm.import_session(export):
                    imported.append(export)
            self._engine.save()
            after = page.get("next")
            if not after:
                return imported

    async def fetch(self, conversation_id: str, session_id: str) -> ExportedSession | None:
        """One session from the backup, imported if it helps (None if absent or useless)."""
        if self._backup is None or self.version is None:
            return None
        try:
            item = await self._api.backup_session(self.version, conversation_id, session_id)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        export = self._decrypt(item)
        if export is None or not self._engine.megolm.import_session(export):
            return None
        self._engine.save()
        return export

    def _decrypt(self, item: dict[str, Any]) -> ExportedSession | None:
        assert self._backup is not None
        try:
            return self._backup.decrypt_session(
                item["conversation_id"], item["session_id"], item["data"]
            )
        except (CryptoError, KeyError, ValueError) as exc:
            log.warning("skipping a backed-up session that does not open: %s", exc)
            return None

    def _save_pending(self) -> None:
        self._engine.store.set_setting(PENDING, sorted(self._pending))
