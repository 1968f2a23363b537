"""Password hashing with argon2id, off the event loop (a hash takes ~100 ms at full cost).

Verifying against an unknown account still hashes (against a fixed dummy), so
login time does not reveal whether a username exists.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kabar.config import SecurityConfig
from kabar.errors import ErrorCode, InvalidRequest

MAX_PASSWORD_LENGTH = 1024


class Passwords:
    def __init__(self, config: SecurityConfig) -> None:
        self._min_length = config.min_password_length
        self._hasher = PasswordHasher(
            time_cost=config.argon2_time_cost,
            memory_cost=config.argon2_memory_kib,
            parallelism=config.argon2_parallelism,
        )
        self._dummy = self._hasher.hash("kabar-dummy-password")

    def check_strength(self, password: str) -> None:
        if len(password) < self._min_length:
            raise InvalidRequest(
                f"a password needs at least {self._min_length} characters",
                code=ErrorCode.WEAK_PASSWORD,
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidRequest(
                "a password is at most 1024 characters", code=ErrorCode.WEAK_PASSWORD
            )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return (
                self._hasher.verify(stored_hash or self._dummy, password)
                and stored_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
