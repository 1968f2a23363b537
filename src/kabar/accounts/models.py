"""The account-side values services pass around."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from kabar.errors import ErrorCode, InvalidRequest

USERNAME_RE = re.compile(r"[a-z0-9_.]{3,32}")


class Role(StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Status(StrEnum):
    ACTIVE = "active"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request: an account acting through one of its devices."""

    account_id: str
    username: str
    device_id: str
    role: Role
    status: Status


@dataclass(frozen=True, slots=True)
class NewSession:
    account_id: str
    username: str
    device_id: str
    access_token: str


def normalise_username(raw: str) -> str:
    """Case-fold and validate: 3–32 of ``a-z 0-9 _ .``."""
    username = raw.strip().lstrip("@").casefold()
    if not USERNAME_RE.fullmatch(username):
        raise InvalidRequest(
            "a username is 3 to 32 characters of a-z, 0-9, '_' and '.'",
            code=ErrorCode.INVALID_USERNAME,
        )
    return username
