"""Image uploads: clean the image (kabar.media.images), store its files, record it.

Any signed-in account may upload images for articles and avatars, within a
rate limit and a byte quota (``media.quota_bytes_per_account``, counting the
stored image and its variants). Processing runs on worker threads.

Every upload here is public, so once stored it is handed to the
:class:`UploadChecker` (hash matching against imported lists,
``kabar.moderation.hash_matching``) with the bytes as uploaded. End-to-end
encrypted blobs (``kabar.media.blobs``) never come this way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kabar.accounts.models import Principal
from kabar.accounts.ratelimit import RateLimiter
from kabar.config import Config
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import ErrorCode, InvalidRequest, PayloadTooLarge
from kabar.ids import new_id
from kabar.media.images import ImageLimits, ImageVariant, ProcessedImage, process_image
from kabar.media.storage import MediaStorage, file_name, url_path
from kabar.store import media as store
from kabar.workers import Workers


@dataclass(frozen=True, slots=True)
class ImageFile:
    path: str
    """Site path, ``/media/<sha256>.<ext>``: what Markdown and pages use."""
    mime: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class StoredImage:
    media_id: str
    image: ImageFile
    variants: tuple[ImageFile, ...]

    def best(self, width: int) -> ImageFile:
        """The smallest file at least ``width`` pixels wide (else the largest)."""
        for variant in self.variants:
            if variant.width >= width:
                return variant
        return self.image


class UploadChecker(Protocol):
    async def check_upload(
        self, media_id: str, account_id: str, data: bytes, *, image: bool, handle: str | None = None
    ) -> list[Any]: ...


class MediaService:
    def __init__(
        self,
        writer: Writer,
        storage: MediaStorage,
        workers: Workers,
        limiter: RateLimiter,
        config: Config,
        checker: UploadChecker | None = None,
    ) -> None:
        self._writer = writer
        self._storage = storage
        self._workers = workers
        self._limiter = limiter
        self._config = config
        self._checker = checker

    async def upload_image(
        self, principal: Principal, data: bytes, *, handle: str | None = None
    ) -> StoredImage:
        """Store a public image; ``handle`` names the public account it is for, if any."""
        await self._limiter.hit(
            "upload", principal.account_id, self._config.rate_limits.upload_per_account
        )
        if not data:
            raise InvalidRequest("the request body is empty", code=ErrorCode.INVALID_IMAGE)
        try:
            limits = ImageLimits(max_bytes=self._config.limits.image_max_bytes)
            processed = await self._workers.run(process_image, data, limits)
        except InvalidRequest as exc:
            raise InvalidRequest(exc.detail, code=ErrorCode.INVALID_IMAGE) from None
        files: list[ProcessedImage | ImageVariant] = [processed, *processed.variants]
        total = sum(len(f.data) for f in files)
        await self._workers.run(self._write_files, files)
        stored = _stored(new_id("m"), processed)
        quota = self._config.media.quota_bytes_per_account

        async def job(tx: WriteTx) -> None:
            if await store.bytes_used(tx.conn, principal.account_id) + total > quota:
                raise PayloadTooLarge(
                    "this upload would exceed your media quota",
                    code=ErrorCode.MEDIA_QUOTA_EXCEEDED,
                    data={"limit": quota},
                )
            await store.insert_media(
                tx.conn,
                id=stored.media_id,
                account_id=principal.account_id,
                name=stored.image.path.removeprefix("/media/"),
                mime=processed.mime,
                width=processed.width,
                height=processed.height,
                bytes=total,
                variants=json.dumps(
                    [
                        {"path": v.path, "mime": v.mime, "width": v.width, "height": v.height}
                        for v in stored.variants
                    ]
                ),
                created_at=tx.now_ms,
            )

        await self._writer.run(job)
        if self._checker is not None:
            await self._checker.check_upload(
                stored.media_id, principal.account_id, data, image=True, handle=handle
            )
        return stored

    def file(self, name: str) -> Path | None:
        """The stored file called ``name`` (as in ``/media/<name>``), if there is one."""
        return self._storage.path(name)

    def _write_files(self, files: list[ProcessedImage | ImageVariant]) -> None:
        for item in files:
            self._storage.write(file_name(item.sha256, item.mime), item.data)


def _file(item: ProcessedImage | ImageVariant) -> ImageFile:
    return ImageFile(
        url_path(file_name(item.sha256, item.mime)), item.mime, item.width, item.height
    )


def _stored(media_id: str, processed: ProcessedImage) -> StoredImage:
    return StoredImage(
        media_id=media_id,
        image=_file(processed),
        variants=tuple(_file(v) for v in processed.variants),
    )
