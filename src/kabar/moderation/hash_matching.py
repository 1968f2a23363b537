"""Checking public uploads against the imported hash lists, and telling moderation.

Every image uploaded for public use (article images, public-account avatars:
``kabar.media.uploads``) is checked after it is stored: the SHA-256 of the
bytes as uploaded, and the PDQ hash of the image in its 8 rotations and
mirror images, against every entry of every enabled list
(``kabar.moderation.hashing``). End-to-end encrypted blobs
(``kabar.media.blobs``) are never checked: the server cannot read them, and
this module is not on their path.

Each match is recorded in ``upload_matches``; then the **sink** is told once
per matched upload, with the strongest match (``auto_remove`` before
``open_case``, then the closest). The sink decides what happens: the
moderation service opens or joins a case, or removes the media at once and
logs it as an automated action. Until it is wired, :class:`LoggingSink` only
logs. A sink that fails is logged; the upload itself has already succeeded.

The matcher is rebuilt, off the event loop, whenever the lists changed (one
cheap aggregate query per upload tells), so every node sees a fresh import.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from kabar.config import HashMatchingConfig
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import InvalidRequest
from kabar.ids import new_id
from kabar.moderation.hashing import (
    HashAction,
    HashMatcher,
    HashType,
    ListedHash,
    MatchResult,
    hash_upload,
)
from kabar.store import hashes as store
from kabar.store.database import Database
from kabar.workers import Workers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UploadMatch:
    """A public upload matched a listed hash."""

    match_id: str  # the upload_matches row
    media_id: str
    account_id: str  # who uploaded it
    handle: str | None  # the public account it was uploaded for (avatars), if known
    list_id: str
    list_name: str
    action: HashAction  # what the list asks for: open_case or auto_remove
    hash_type: HashType  # pdq or sha256
    distance: int  # PDQ Hamming distance; 0 for SHA-256
    created_at: int  # ms


class HashMatchSink(Protocol):
    async def on_match(self, match: UploadMatch) -> None: ...


class LoggingSink:
    """The default sink: a warning in the log, nothing else."""

    async def on_match(self, match: UploadMatch) -> None:
        log.warning(
            "upload %s by %s matched hash list %r (%s, %s distance %d); no moderation sink wired",
            match.media_id,
            match.account_id,
            match.list_name,
            match.action,
            match.hash_type,
            match.distance,
        )


class HashMatchService:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        workers: Workers,
        config: HashMatchingConfig,
        sink: HashMatchSink | None = None,
    ) -> None:
        self._db = database
        self._writer = writer
        self._workers = workers
        self._config = config
        self.sink: HashMatchSink = sink or LoggingSink()
        self._matcher: HashMatcher | None = None
        self._list_ids: dict[str, str] = {}
        self._version: tuple[int, int, int] | None = None
        self._lock = asyncio.Lock()

    async def check_upload(
        self, media_id: str, account_id: str, data: bytes, *, image: bool, handle: str | None = None
    ) -> list[UploadMatch]:
        """Check a stored public upload; record and report its matches (may be none)."""
        if not self._config.enabled:
            return []
        matcher = await self._current_matcher()
        if matcher is None:
            return []
        try:
            hashes = await self._workers.run(hash_upload, data, image=image)
        except InvalidRequest:
            hashes = await self._workers.run(hash_upload, data, image=False)
        result: MatchResult = matcher.match(hashes)
        if not result.matches:
            return []

        async def job(tx: WriteTx) -> list[UploadMatch]:
            found = [
                UploadMatch(
                    match_id=new_id("u"),
                    media_id=media_id,
                    account_id=account_id,
                    handle=handle,
                    list_id=self._list_ids.get(m.listed.list, ""),
                    list_name=m.listed.list,
                    action=m.listed.action,
                    hash_type=m.listed.type,
                    distance=m.distance,
                    created_at=tx.now_ms,
                )
                for m in result.matches
            ]
            await store.insert_matches(
                tx.conn,
                [
                    {
                        "id": f.match_id,
                        "media_id": f.media_id,
                        "account_id": f.account_id,
                        "handle": f.handle,
                        "list_id": f.list_id,
                        "list_name": f.list_name,
                        "action": f.action,
                        "hash_type": f.hash_type,
                        "distance": f.distance,
                        "created_at": f.created_at,
                    }
                    for f in found
                ],
            )
            return found

        matches: list[UploadMatch] = await self._writer.run(job)
        try:
            await self.sink.on_match(matches[0])
        except Exception:
            log.exception("the hash-match sink failed for upload %s", media_id)
        return matches

    async def _current_matcher(self) -> HashMatcher | None:
        async with self._db.read() as conn:
            version = await store.version(conn)
        if version[1] == 0:
            return None
        async with self._lock:
            if self._version != version or self._matcher is None:
                async with self._db.read() as conn:
                    rows = await store.enabled_entries(conn)
                listed = [ListedHash(r.type, r.value, r.list_name, r.action) for r in rows]
                self._list_ids = {r.list_name: r.list_id for r in rows}
                self._matcher = await self._workers.run(
                    HashMatcher, listed, pdq_threshold=self._config.pdq_threshold
                )
                self._version = version
            return self._matcher
