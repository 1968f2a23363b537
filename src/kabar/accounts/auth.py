"""Authentication of access tokens, with a short-lived cache that revocation empties at once.

Every request and every WebSocket authenticates here, and the account's status
is part of what is checked: a suspended or deactivated account's tokens stop
working everywhere. The cache saves a database read per request; revocations
and status changes evict through the control bus on every node, and entries
expire after ``security.auth_cache_seconds`` in case a control message is lost.
"""

from __future__ import annotations

import time
from typing import Any

from kabar.accounts.models import Principal, Role, Status
from kabar.accounts.tokens import token_hash
from kabar.delivery import control
from kabar.errors import ErrorCode, Forbidden, Unauthenticated
from kabar.store import accounts as store
from kabar.store.database import Database


class Authenticator:
    def __init__(self, database: Database, bus: control.ControlBus, cache_seconds: float) -> None:
        self._db = database
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._by_device: dict[str, str] = {}
        bus.on(control.DEVICES_REVOKED, self._on_revoked)
        bus.on(control.ACCOUNT_CHANGED, self._on_account_changed)

    async def authenticate(self, token: str | None, *, allow_suspended: bool = False) -> Principal:
        """The caller; ``allow_suspended`` lets a suspended account through (only to read its
        moderation notices and appeal them — never cached, so nothing else admits it)."""
        if not token:
            raise Unauthenticated("this request needs an access token (Authorization: Bearer …)")
        digest = token_hash(token)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        async with self._db.read() as conn:
            row = await store.principal_by_token_hash(conn, digest)
        if row is None:
            self._cache.pop(digest, None)
            raise Unauthenticated("the access token is unknown or has been revoked")
        principal = Principal(
            account_id=row.account_id,
            username=row.username,
            device_id=row.device_id,
            role=Role(row.role),
            status=Status(row.status),
        )
        if allow_suspended and principal.status is Status.SUSPENDED:
            return principal
        check_status(principal)
        if len(self._cache) > 100_000:
            self._cache.clear()
            self._by_device.clear()
        self._cache[digest] = (principal, now + self._ttl)
        self._by_device[principal.device_id] = digest
        return principal

    def _on_revoked(self, data: dict[str, Any]) -> None:
        for device_id in data.get("devices", ()):
            digest = self._by_device.pop(device_id, None)
            if digest is not None:
                self._cache.pop(digest, None)

    def _on_account_changed(self, data: dict[str, Any]) -> None:
        account_id = data.get("account_id")
        for digest, (principal, _) in list(self._cache.items()):
            if principal.account_id == account_id:
                self._cache.pop(digest, None)
                self._by_device.pop(principal.device_id, None)


def check_status(principal: Principal) -> None:
    if principal.status is Status.SUSPENDED:
        raise Forbidden("this account is suspended", code=ErrorCode.ACCOUNT_SUSPENDED)
    if principal.status is Status.DEACTIVATED:
        raise Unauthenticated(
            "this account has been deactivated", code=ErrorCode.ACCOUNT_DEACTIVATED
        )
