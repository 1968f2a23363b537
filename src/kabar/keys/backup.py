"""Key backup storage: an opaque, per-account store of encrypted Megolm session keys.

The client encrypts every session export to a recovery key only the user holds
(``kabar.client.crypto.backup``); the server keeps what it is given and cannot
open it. An account has one **current version** — the client's public version
record (algorithm, salt, key check), stored verbatim — and, under it, one blob
per ``(conversation_id, session_id)``. The only field the server reads is each
blob's ``first_known_index``: an upload replaces a stored blob only if it
decrypts at least as much (a lower or equal index), so a device holding a
partial copy cannot overwrite a better one.

Creating a version replaces the previous one and deletes its sessions (a new
recovery key starts a new backup). Version numbers only grow, so a device
still uploading to a replaced version is told ``backup_version_stale`` (409)
and stops, instead of mixing blobs under two keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kabar.accounts.models import Principal
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import Conflict, ErrorCode, InvalidRequest, NotFound, PayloadTooLarge
from kabar.store import backups as store
from kabar.store.database import Database

VERSION_MAX_BYTES = 4096
SESSION_MAX_BYTES = 8192
SESSIONS_PER_UPLOAD = 500
PAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class BackupVersionInfo:
    version: int
    data: dict[str, Any]
    created_at: int
    sessions: int


@dataclass(frozen=True, slots=True)
class BackedUpSession:
    conversation_id: str
    session_id: str
    first_known_index: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SessionPage:
    sessions: list[BackedUpSession]
    next: tuple[str, str] | None


def _no_backup() -> NotFound:
    return NotFound("there is no key backup", code=ErrorCode.BACKUP_NOT_FOUND)


def _encode(value: dict[str, Any], limit: int, what: str) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) > limit:
        raise PayloadTooLarge(f"{what} is at most {limit} bytes of JSON")
    return text


class BackupService:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._db = database
        self._writer = writer

    async def create_version(self, principal: Principal, data: dict[str, Any]) -> int:
        """Start a new backup version; the previous one and its sessions are deleted."""
        text = _encode(data, VERSION_MAX_BYTES, "a backup version record")

        async def job(tx: WriteTx) -> int:
            current = await store.current_version(tx.conn, principal.account_id)
            version = (int(current.version) if current else 0) + 1
            await store.insert_version(tx.conn, principal.account_id, version, text, tx.now_ms)
            await store.delete_versions_below(tx.conn, principal.account_id, version)
            return version

        version: int = await self._writer.run(job)
        return version

    async def current(self, principal: Principal) -> BackupVersionInfo:
        async with self._db.read() as conn:
            row = await store.current_version(conn, principal.account_id)
            if row is None:
                raise _no_backup()
            count = await store.count_sessions(conn, principal.account_id, row.version)
        return BackupVersionInfo(int(row.version), json.loads(row.data), row.created_at, count)

    async def put_sessions(
        self, principal: Principal, version: int, sessions: list[BackedUpSession]
    ) -> tuple[int, int]:
        """Store blobs that improve on what is kept; return ``(stored, total in version)``."""
        if len(sessions) > SESSIONS_PER_UPLOAD:
            raise InvalidRequest(f"at most {SESSIONS_PER_UPLOAD} sessions per upload")
        best: dict[tuple[str, str], tuple[int, str]] = {}
        for s in sessions:
            if s.first_known_index < 0:
                raise InvalidRequest("first_known_index must not be negative")
            key = (s.conversation_id, s.session_id)
            text = _encode(s.data, SESSION_MAX_BYTES, "a backed-up session")
            if key not in best or s.first_known_index < best[key][0]:
                best[key] = (s.first_known_index, text)

        async def job(tx: WriteTx) -> tuple[int, int]:
            await self._require_current(tx, principal, version)
            stored = await store.first_indexes(tx.conn, principal.account_id, version, list(best))
            rows = [
                {
                    "account_id": principal.account_id,
                    "version": version,
                    "conversation_id": key[0],
                    "session_id": key[1],
                    "first_known_index": index,
                    "data": text,
                    "updated_at": tx.now_ms,
                }
                for key, (index, text) in sorted(best.items())
                if key not in stored or index <= stored[key]
            ]
            await store.insert_sessions(tx.conn, [r for r in rows if _key(r) not in stored])
            for row in rows:
                if _key(row) in stored:
                    await store.replace_session(tx.conn, row)
            return len(rows), await store.count_sessions(tx.conn, principal.account_id, version)

        result: tuple[int, int] = await self._writer.run(job)
        return result

    async def sessions(
        self,
        principal: Principal,
        version: int,
        after: tuple[str, str] | None,
        limit: int,
        conversation_id: str | None = None,
    ) -> SessionPage:
        limit = max(1, min(limit, PAGE_MAX))
        async with self._db.read() as conn:
            current = await store.current_version(conn, principal.account_id)
            _check_version(current, version)
            rows = await store.sessions_page(
                conn, principal.account_id, version, after, limit, conversation_id
            )
        found = [
            BackedUpSession(
                r.conversation_id, r.session_id, int(r.first_known_index), json.loads(r.data)
            )
            for r in rows
        ]
        last = (found[-1].conversation_id, found[-1].session_id) if len(found) == limit else None
        return SessionPage(found, last)

    async def session(
        self, principal: Principal, version: int, conversation_id: str, session_id: str
    ) -> BackedUpSession:
        async with self._db.read() as conn:
            _check_version(await store.current_version(conn, principal.account_id), version)
            row = await store.session(
                conn, principal.account_id, version, conversation_id, session_id
            )
        if row is None:
            raise NotFound("this session is not in the backup", code=ErrorCode.BACKUP_NOT_FOUND)
        return BackedUpSession(
            row.conversation_id, row.session_id, int(row.first_known_index), json.loads(row.data)
        )

    async def _require_current(self, tx: WriteTx, principal: Principal, version: int) -> None:
        _check_version(await store.current_version(tx.conn, principal.account_id), version)


def _check_version(current: Any, version: int) -> None:
    if current is None or version > int(current.version):
        raise _no_backup()
    if version < int(current.version):
        raise Conflict(
            f"backup version {version} was replaced by version {current.version}",
            code=ErrorCode.BACKUP_VERSION_STALE,
            data={"current_version": int(current.version)},
        )


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return (row["conversation_id"], row["session_id"])
