"""Opaque blobs: the encrypted attachments of private chats, stored as the client sent them.

The server never learns what a blob is (DESIGN §4: the client encrypts each file
under a fresh key that travels inside the Megolm-encrypted message). A blob has
a random, unguessable id (``b_…``, 128 bits); any signed-in user who knows the id
may download it — knowing the id is the capability, exactly like knowing the
message that carries it — and only its uploader may delete it.

Limits: ``media.blob_max_bytes`` per blob (413 ``payload_too_large``, checked
while the body streams in, so an oversized upload is never buffered whole) and
``media.quota_bytes_per_account`` over all of an account's blobs (409
``quota_exceeded``). Files live under ``<media.directory>/blobs/<2 chars>/<id>``
and are written atomically: a temporary file, fsync, rename, fsync of the
directory, and only then the database row. A crash can leave an orphan file
(harmless, collectable), never a row without its bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kabar.accounts.models import Principal
from kabar.config import MediaConfig
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import Conflict, ErrorCode, NotFound, PayloadTooLarge
from kabar.ids import looks_like_id, new_id
from kabar.store import blobs as store
from kabar.store.database import Database

_FLUSH_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BlobInfo:
    blob_id: str
    size: int


@dataclass(frozen=True, slots=True)
class BlobFile:
    path: Path
    size: int


@dataclass(frozen=True, slots=True)
class Usage:
    used_bytes: int
    quota_bytes: int
    blob_max_bytes: int


def not_found() -> NotFound:
    return NotFound("no such blob", code=ErrorCode.BLOB_NOT_FOUND)


class BlobService:
    def __init__(self, database: Database, writer: Writer, config: MediaConfig) -> None:
        self._db = database
        self._writer = writer
        self._config = config
        self._root = Path(config.directory) / "blobs"

    async def usage(self, principal: Principal) -> Usage:
        async with self._db.read() as conn:
            used = await store.usage(conn, principal.account_id)
        return Usage(used, self._config.quota_bytes_per_account, self._config.blob_max_bytes)

    async def upload(
        self, principal: Principal, body: AsyncIterator[bytes], declared_size: int | None = None
    ) -> BlobInfo:
        """Store the body as a new blob; refuse it early when its declared size cannot fit."""
        if declared_size is not None:
            self._check_size(declared_size)
            self._check_quota((await self.usage(principal)).used_bytes, declared_size)
        blob_id = new_id("b")
        final = self._path(blob_id)
        size = await self._receive(body, final)
        quota = self._config.quota_bytes_per_account

        async def job(tx: WriteTx) -> None:
            # Checked again inside the serial writer, so parallel uploads cannot overshoot.
            self._check_quota(await store.usage(tx.conn, principal.account_id), size, quota)
            await store.insert_blob(tx.conn, blob_id, principal.account_id, size, tx.now_ms)

        try:
            await self._writer.run(job)
        except BaseException:
            with contextlib.suppress(OSError):
                final.unlink()
            raise
        return BlobInfo(blob_id, size)

    async def open(self, principal: Principal, blob_id: str) -> BlobFile:
        """The stored file of a blob, for any signed-in user who knows its id."""
        del principal  # authentication is the only requirement; the id is the capability
        if not looks_like_id(blob_id, "b"):
            raise not_found()
        async with self._db.read() as conn:
            row = await store.blob(conn, blob_id)
        path = self._path(blob_id)
        if row is None or not path.is_file():
            raise not_found()
        return BlobFile(path, int(row.size))

    async def delete(self, principal: Principal, blob_id: str) -> None:
        if not looks_like_id(blob_id, "b"):
            raise not_found()

        async def job(tx: WriteTx) -> None:
            row = await store.blob(tx.conn, blob_id)
            if row is None or row.account_id != principal.account_id:
                raise not_found()  # someone else's blob is as absent as a missing one
            await store.delete_blob(tx.conn, blob_id)

        await self._writer.run(job)
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(blob_id).unlink)

    def _path(self, blob_id: str) -> Path:
        return self._root / blob_id[2:4] / blob_id

    def _check_size(self, size: int) -> None:
        if size > self._config.blob_max_bytes:
            raise PayloadTooLarge(f"a blob is at most {self._config.blob_max_bytes} bytes")

    def _check_quota(self, used: int, size: int, quota: int | None = None) -> None:
        quota = self._config.quota_bytes_per_account if quota is None else quota
        if used + size > quota:
            raise Conflict(
                f"this upload would exceed your storage quota of {quota} bytes",
                code=ErrorCode.QUOTA_EXCEEDED,
                data={"used_bytes": used, "quota_bytes": quota},
            )

    async def _receive(self, body: AsyncIterator[bytes], final: Path) -> int:
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.parent / f".{final.name}.{secrets.token_hex(4)}.tmp"
        size = 0
        pending: list[bytes] = []
        buffered = 0
        try:
            with open(temp, "xb") as out:  # noqa: ASYNC230 - writes go to a thread below
                async for chunk in body:
                    size += len(chunk)
                    self._check_size(size)
                    pending.append(chunk)
                    buffered += len(chunk)
                    if buffered >= _FLUSH_BYTES:
                        await asyncio.to_thread(out.write, b"".join(pending))
                        pending, buffered = [], 0
                await asyncio.to_thread(_finish, out, b"".join(pending))
            await asyncio.to_thread(_publish, temp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        return size


def _finish(out: BinaryIO, tail: bytes) -> None:
    out.write(tail)
    out.flush()
    os.fsync(out.fileno())


def _publish(temp: Path, final: Path) -> None:
    os.replace(temp, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
