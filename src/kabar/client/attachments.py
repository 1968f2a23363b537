"""Encrypted attachments through the server's blob store.

Upload: encrypt the file under a fresh AES-256-GCM key
(``kabar.client.crypto.attachments``), upload the ciphertext as an opaque blob
(``POST /v1/blobs``) and return the descriptor — key, nonce, plaintext SHA-256,
size, name, type and the blob id — which goes *inside* the Megolm-encrypted
message, so franking commits to the file's hash. Download: fetch the blob and
decrypt it, refusing anything whose tag, size or hash does not match.
"""

from __future__ import annotations

from typing import Any

from kabar.client.api import Api
from kabar.client.crypto.attachments import (
    AttachmentDescriptor,
    decrypt_attachment,
    encrypt_attachment,
)
from kabar.client.models import Attachment


async def upload(api: Api, data: bytes, name: str, mime: str) -> dict[str, Any]:
    ciphertext, descriptor = encrypt_attachment(data, name=name, mime=mime)
    blob = await api.upload_blob(ciphertext)
    return {**descriptor.to_json(), "blob_id": blob["blob_id"]}


async def download(api: Api, attachment: Attachment) -> bytes:
    ciphertext = await api.download_blob(attachment.blob_id)
    return decrypt_attachment(ciphertext, AttachmentDescriptor.from_json(attachment.descriptor))
