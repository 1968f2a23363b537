"""Where media files live: a local directory, files named by the SHA-256 of their bytes.

Naming by content makes writes idempotent (a retried upload rewrites the same
file) and lets files be cached forever. Files are written to a temporary name
and renamed, so a reader never sees half a file. Blocking: call from a worker
thread. The directory is ``media.directory``; files are served at ``/media/<name>``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MIME_TYPES = {extension: mime for mime, extension in EXTENSIONS.items()}
NAME = re.compile(r"[0-9a-f]{64}\.(jpg|png|webp)")
URL_PREFIX = "/media/"


def file_name(sha256: str, mime: str) -> str:
    return f"{sha256}.{EXTENSIONS[mime]}"


def url_path(name: str) -> str:
    return URL_PREFIX + name


class MediaStorage:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def write(self, name: str, data: bytes) -> None:
        if not NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a media file name")
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / name
        if target.exists():
            return
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def path(self, name: str) -> Path | None:
        """The file for ``name``, if the name is well formed and the file exists."""
        if not NAME.fullmatch(name):
            return None
        path = self.directory / name
        return path if path.is_file() else None
