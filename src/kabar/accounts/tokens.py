"""Access tokens: 256 random bits for the client, only their SHA-256 for the database."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "kbr_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
