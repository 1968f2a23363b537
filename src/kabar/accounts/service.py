"""Account actions: register, log in and out, devices, passwords, deactivation, roles.

Every write goes through the group-commit writer. Responses never reveal
whether a username exists beyond what registering it must: a failed login is
always ``invalid_credentials`` (deactivated accounts included) after the same
argon2 work, and every unavailable username is ``username_unavailable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from kabar.accounts.models import NewSession, Principal, Role, Status, normalise_username
from kabar.accounts.passwords import Passwords
from kabar.accounts.ratelimit import RateLimiter
from kabar.accounts.tokens import new_token, token_hash
from kabar.config import RateLimitsConfig
from kabar.delivery import control
from kabar.delivery import events as ev
from kabar.delivery.transaction import Sender, WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import Conflict, ErrorCode, Forbidden, NotFound, Unauthenticated
from kabar.ids import new_account_id, new_device_id
from kabar.store import accounts as store
from kabar.store import conversations as conv_store
from kabar.store.database import Database

DEFAULT_DEVICE_NAME = "unnamed device"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    device_id: str
    display_name: str
    created_at: int
    last_seen_at: int
    has_keys: bool
    ed25519: str | None
    current: bool


@dataclass(frozen=True, slots=True)
class AccountInfo:
    account_id: str
    username: str
    display_name: str
    role: str
    status: str
    created_at: int


class AccountService:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        passwords: Passwords,
        limiter: RateLimiter,
        limits: RateLimitsConfig,
        bus: control.ControlBus,
    ) -> None:
        self._db = database
        self._writer = writer
        self._passwords = passwords
        self._limiter = limiter
        self._limits = limits
        self._bus = bus

    async def register(
        self,
        username: str,
        password: str,
        display_name: str | None,
        device_name: str | None,
        address: str,
    ) -> NewSession:
        await self._limiter.hit("register", address, self._limits.register_per_address)
        username = normalise_username(username)
        self._passwords.check_strength(password)
        password_hash = await self._passwords.hash(password)
        token = new_token()
        account_id, device_id = new_account_id(), new_device_id()

        async def job(tx: WriteTx) -> None:
            if await store.account_by_username(tx.conn, username) is not None:
                raise Conflict(
                    "that username is not available", code=ErrorCode.USERNAME_UNAVAILABLE
                )
            await store.insert_account(
                tx.conn,
                id=account_id,
                username=username,
                display_name=(display_name or username).strip()[:100] or username,
                password_hash=password_hash,
                role=Role.USER.value,
                status=Status.ACTIVE.value,
                created_at=tx.now_ms,
            )
            await self._insert_device(tx, account_id, device_id, token, device_name)

        try:
            await self._writer.run(job)
        except IntegrityError:
            raise Conflict(
                "that username is not available", code=ErrorCode.USERNAME_UNAVAILABLE
            ) from None
        return NewSession(account_id, username, device_id, token)

    async def login(
        self, username: str, password: str, device_name: str | None, address: str
    ) -> NewSession:
        await self._limiter.hit("login", address, self._limits.login_per_address)
        key = username.strip().lstrip("@").casefold()[:64]
        await self._limiter.hit("login_account", key, self._limits.login_per_account)
        async with self._db.read() as conn:
            row = await store.account_by_username(conn, key)
        usable = row is not None and row.status != Status.DEACTIVATED.value
        ok = await self._passwords.verify(row.password_hash if usable and row else None, password)
        if not ok or row is None:
            raise Unauthenticated("wrong username or password", code=ErrorCode.INVALID_CREDENTIALS)
        if row.status == Status.SUSPENDED.value:
            raise Forbidden("this account is suspended", code=ErrorCode.ACCOUNT_SUSPENDED)
        token = new_token()
        device_id = new_device_id()

        async def job(tx: WriteTx) -> None:
            await self._insert_device(tx, row.id, device_id, token, device_name)

        await self._writer.run(job)
        return NewSession(row.id, row.username, device_id, token)

    async def _insert_device(
        self, tx: WriteTx, account_id: str, device_id: str, token: str, name: str | None
    ) -> None:
        await store.insert_device(
            tx.conn,
            id=device_id,
            account_id=account_id,
            token_hash=token_hash(token),
            display_name=(name or DEFAULT_DEVICE_NAME).strip()[:100] or DEFAULT_DEVICE_NAME,
            created_at=tx.now_ms,
            last_seen_at=tx.now_ms,
        )

    async def me(self, principal: Principal) -> AccountInfo:
        async with self._db.read() as conn:
            row = await store.account_by_id(conn, principal.account_id)
        assert row is not None
        return _account_info(row)

    async def profile(self, username: str) -> AccountInfo:
        name = normalise_username(username)
        async with self._db.read() as conn:
            row = await store.account_by_username(conn, name)
        if row is None or row.status == Status.DEACTIVATED.value:
            raise NotFound("no such account", code=ErrorCode.ACCOUNT_NOT_FOUND)
        return _account_info(row)

    async def update_profile(self, principal: Principal, display_name: str) -> AccountInfo:
        async def job(tx: WriteTx) -> None:
            await store.update_account(
                tx.conn, principal.account_id, display_name=display_name.strip()[:100]
            )

        await self._writer.run(job)
        return await self.me(principal)

    async def devices(self, principal: Principal) -> list[DeviceInfo]:
        async with self._db.read() as conn:
            rows = await store.devices_of(conn, principal.account_id)
        return [
            DeviceInfo(
                device_id=r.id,
                display_name=r.display_name,
                created_at=r.created_at,
                last_seen_at=r.last_seen_at,
                has_keys=r.curve25519 is not None,
                ed25519=r.ed25519,
                current=r.id == principal.device_id,
            )
            for r in rows
        ]

    async def rename_device(self, principal: Principal, device_id: str, name: str) -> None:
        async def job(tx: WriteTx) -> None:
            row = await store.device(tx.conn, device_id)
            if row is None or row.account_id != principal.account_id:
                raise NotFound("no such device", code=ErrorCode.DEVICE_NOT_FOUND)
            await store.update_device(
                tx.conn, device_id, display_name=name.strip()[:100] or DEFAULT_DEVICE_NAME
            )

        await self._writer.run(job)

    async def logout(self, principal: Principal) -> None:
        await self.revoke_device(principal, principal.device_id, reason="logged_out")

    async def revoke_device(
        self, principal: Principal, device_id: str, reason: str = "revoked"
    ) -> None:
        async def job(tx: WriteTx) -> None:
            row = await store.device(tx.conn, device_id)
            if row is None or row.account_id != principal.account_id:
                raise NotFound("no such device", code=ErrorCode.DEVICE_NOT_FOUND)
            await self._remove_devices(tx, principal, [row], reason)

        await self._writer.run(job)

    async def change_password(
        self, principal: Principal, current: str, new: str, revoke_other_devices: bool
    ) -> int:
        """Change the password; returns how many other devices were signed out."""
        self._passwords.check_strength(new)
        async with self._db.read() as conn:
            row = await store.account_by_id(conn, principal.account_id)
        if row is None or not await self._passwords.verify(row.password_hash, current):
            raise Unauthenticated(
                "the current password is wrong", code=ErrorCode.INVALID_CREDENTIALS
            )
        new_hash = await self._passwords.hash(new)

        async def job(tx: WriteTx) -> int:
            await store.update_account(tx.conn, principal.account_id, password_hash=new_hash)
            if not revoke_other_devices:
                return 0
            others = [
                d
                for d in await store.devices_of(tx.conn, principal.account_id)
                if d.id != principal.device_id
            ]
            await self._remove_devices(tx, principal, others, "password_changed")
            return len(others)

        revoked: int = await self._writer.run(job)
        return revoked

    async def deactivate(self, principal: Principal, password: str) -> None:
        """Sign out everywhere, leave every conversation, keep the username reserved."""
        async with self._db.read() as conn:
            row = await store.account_by_id(conn, principal.account_id)
        if row is None or not await self._passwords.verify(row.password_hash, password):
            raise Unauthenticated("the password is wrong", code=ErrorCode.INVALID_CREDENTIALS)

        async def job(tx: WriteTx) -> None:
            devices = await store.devices_of(tx.conn, principal.account_id)
            await self._remove_devices(tx, principal, devices, "deactivated")
            for conversation in await conv_store.conversations_of(tx.conn, principal.account_id):
                await leave_conversation(tx, principal, conversation.id)
            await store.update_account(
                tx.conn, principal.account_id, status=Status.DEACTIVATED.value, display_name=""
            )
            tx.after_commit(
                lambda: self._bus.publish(
                    control.ACCOUNT_CHANGED, account_id=principal.account_id, status="deactivated"
                )
            )

        await self._writer.run(job)

    async def set_status(self, account_id: str, status: Status) -> None:
        """Operator action (moderation builds on it): suspend, restrict, reactivate."""

        async def job(tx: WriteTx) -> None:
            if await store.account_by_id(tx.conn, account_id) is None:
                raise NotFound("no such account", code=ErrorCode.ACCOUNT_NOT_FOUND)
            await store.update_account(tx.conn, account_id, status=status.value)
            tx.after_commit(
                lambda: self._bus.publish(
                    control.ACCOUNT_CHANGED, account_id=account_id, status=status.value
                )
            )

        await self._writer.run(job)

    async def set_role(self, account_id: str, role: Role) -> None:
        async def job(tx: WriteTx) -> None:
            if await store.account_by_id(tx.conn, account_id) is None:
                raise NotFound("no such account", code=ErrorCode.ACCOUNT_NOT_FOUND)
            await store.update_account(tx.conn, account_id, role=role.value)
            tx.after_commit(
                lambda: self._bus.publish(
                    control.ACCOUNT_CHANGED, account_id=account_id, role=role.value
                )
            )

        await self._writer.run(job)

    async def _remove_devices(
        self, tx: WriteTx, principal: Principal, rows: list[Any], reason: str
    ) -> None:
        if not rows:
            return
        ids = [r.id for r in rows]
        await store.delete_devices(tx.conn, ids)
        if any(r.curve25519 is not None for r in rows):
            await announce_device_change(tx, principal)
        tx.after_commit(
            lambda: self._bus.publish(control.DEVICES_REVOKED, devices=ids, reason=reason)
        )


async def announce_device_change(tx: WriteTx, principal: Principal) -> None:
    """Tell everyone who shares a conversation that this account's devices changed."""
    sender = Sender(principal.account_id, principal.username, principal.device_id)
    for conversation in await conv_store.conversations_of(tx.conn, principal.account_id):
        await tx.append_event(
            ev.MEMBER_DEVICES_CHANGED,
            {"account_id": principal.account_id, "username": principal.username},
            conversation_id=conversation.id,
            sender=sender,
        )


async def leave_conversation(tx: WriteTx, principal: Principal, conversation_id: str) -> None:
    """Remove the principal from a conversation (imported lazily to avoid a cycle)."""
    from kabar.conversations.membership import leave

    await leave(tx, principal, conversation_id)


def _account_info(row: Any) -> AccountInfo:
    return AccountInfo(
        account_id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        status=row.status,
        created_at=row.created_at,
    )
