"""Serving uploaded media files at ``/media/<sha256>.<ext>``.

Names are content hashes, so a file never changes: it is cached for a year.
Files are served with their own type, ``nosniff``, and a CSP that lets nothing
run even if a browser were persuaded to render one as a document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse

from kabar.errors import ErrorCode, NotFound
from kabar.http.deps import Svc
from kabar.media.storage import MIME_TYPES
from kabar.store import media as media_store

router = APIRouter(include_in_schema=False)

HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-site",
}


@router.get("/media/{name}")
async def media_file(name: Annotated[str, Path(max_length=80)], svc: Svc) -> FileResponse:
    path = svc.media.file(name)
    if path is not None:
        # Removed media (moderation, hash lists) is kept on disk but no longer served.
        async with svc.database.read() as conn:
            if await media_store.removed(conn, name):
                path = None
    if path is None:
        raise NotFound("no such file", code=ErrorCode.MEDIA_NOT_FOUND)
    return FileResponse(path, media_type=MIME_TYPES[path.suffix[1:]], headers=HEADERS)
