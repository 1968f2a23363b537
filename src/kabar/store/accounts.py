"""Queries over accounts and their devices (tokens, identity keys)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from kabar.store.rows import Record
from kabar.store.schema import accounts, devices, fallback_keys, one_time_keys, to_device
from kabar.store.threaded import Executor

ACCOUNT_FIELDS = (
    accounts.c.id,
    accounts.c.username,
    accounts.c.display_name,
    accounts.c.role,
    accounts.c.status,
    accounts.c.created_at,
)


async def account_by_username(conn: Executor, username: str) -> Record | None:
    result = await conn.execute(
        select(*ACCOUNT_FIELDS, accounts.c.password_hash).where(accounts.c.username == username)
    )
    return result.first()


async def account_by_id(conn: Executor, account_id: str) -> Record | None:
    result = await conn.execute(
        select(*ACCOUNT_FIELDS, accounts.c.password_hash).where(accounts.c.id == account_id)
    )
    return result.first()


async def accounts_by_usernames(conn: Executor, usernames: list[str]) -> list[Record]:
    if not usernames:
        return []
    result = await conn.execute(select(*ACCOUNT_FIELDS).where(accounts.c.username.in_(usernames)))
    return list(result)


async def insert_account(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(accounts).values(**values))


async def update_account(conn: Executor, account_id: str, **values: Any) -> None:
    await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


# Built once: every authentication the cache does not answer runs it.
_PRINCIPAL_BY_TOKEN_HASH = (
    select(
        devices.c.id.label("device_id"),
        accounts.c.id.label("account_id"),
        accounts.c.username,
        accounts.c.role,
        accounts.c.status,
    )
    .join(accounts, accounts.c.id == devices.c.account_id)
    .where(devices.c.token_hash == bindparam("token_hash"))
)


async def principal_by_token_hash(conn: Executor, token_hash: str) -> Record | None:
    return (await conn.execute(_PRINCIPAL_BY_TOKEN_HASH, {"token_hash": token_hash})).first()


async def insert_device(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(devices).values(**values))


async def devices_of(conn: Executor, account_id: str) -> list[Record]:
    result = await conn.execute(
        select(devices).where(devices.c.account_id == account_id).order_by(devices.c.created_at)
    )
    return list(result)


async def device(conn: Executor, device_id: str) -> Record | None:
    return (await conn.execute(select(devices).where(devices.c.id == device_id))).first()


async def update_device(conn: Executor, device_id: str, **values: Any) -> None:
    await conn.execute(update(devices).where(devices.c.id == device_id).values(**values))


async def delete_devices(conn: Executor, device_ids: list[str]) -> None:
    """Remove devices with their tokens, keys and undelivered to-device messages."""
    if not device_ids:
        return
    for table in (one_time_keys, fallback_keys, to_device):
        await conn.execute(delete(table).where(table.c.device_id.in_(device_ids)))
    await conn.execute(delete(devices).where(devices.c.id.in_(device_ids)))
