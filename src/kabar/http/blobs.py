"""Routes for opaque blobs (encrypted attachments): upload, download, delete, usage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

from kabar.http.deps import Authenticated, Svc
from kabar.http.problems import ERROR_RESPONSES

router = APIRouter(prefix="/v1/blobs", tags=["blobs"], responses=ERROR_RESPONSES)

BlobIdPath = Annotated[str, Path(min_length=1, max_length=40)]
BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class BlobOut(BaseModel):
    blob_id: str
    size: int


class UsageOut(BaseModel):
    used_bytes: int
    quota_bytes: int
    blob_max_bytes: int


@router.post(
    "",
    status_code=201,
    summary="Upload an opaque (client-encrypted) blob; the body is the raw bytes",
    openapi_extra=BINARY_BODY,
)
async def upload(request: Request, principal: Authenticated, svc: Svc) -> BlobOut:
    declared = request.headers.get("content-length")
    size = int(declared) if declared and declared.isdigit() else None
    info = await svc.blobs.upload(principal, request.stream(), size)
    return BlobOut(blob_id=info.blob_id, size=info.size)


@router.get("/usage", summary="Storage used by this account's blobs, and the limits")
async def usage(principal: Authenticated, svc: Svc) -> UsageOut:
    found = await svc.blobs.usage(principal)
    return UsageOut(
        used_bytes=found.used_bytes,
        quota_bytes=found.quota_bytes,
        blob_max_bytes=found.blob_max_bytes,
    )


@router.get(
    "/{blob_id}",
    summary="Download a blob (any signed-in user who knows its id)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(blob_id: BlobIdPath, principal: Authenticated, svc: Svc) -> Response:
    found = await svc.blobs.open(principal, blob_id)
    return FileResponse(
        found.path,
        media_type="application/octet-stream",
        # Blobs never change; only the uploader's delete ends them.
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


@router.delete("/{blob_id}", status_code=204, summary="Delete a blob you uploaded")
async def delete(blob_id: BlobIdPath, principal: Authenticated, svc: Svc) -> Response:
    await svc.blobs.delete(principal, blob_id)
    return Response(status_code=204)
