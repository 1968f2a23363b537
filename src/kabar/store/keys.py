"""Queries over the end-to-end key directory: identity, one-time and fallback keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from kabar.store.rows import Record
from kabar.store.schema import accounts, devices, fallback_keys, one_time_keys
from kabar.store.threaded import Executor

# The two key counts every sync and stream connect reports, built once.
_COUNT_ONE_TIME_KEYS = (
    select(func.count())
    .select_from(one_time_keys)
    .where(one_time_keys.c.device_id == bindparam("device_id"))
)
_FALLBACK_USED = select(fallback_keys.c.used).where(
    fallback_keys.c.device_id == bindparam("device_id")
)


async def count_one_time_keys(conn: Executor, device_id: str) -> int:
    result = await conn.execute(_COUNT_ONE_TIME_KEYS, {"device_id": device_id})
    return int(result.scalar_one())


async def existing_key_ids(conn: Executor, device_id: str, key_ids: list[str]) -> dict[str, str]:
    result = await conn.execute(
        select(one_time_keys.c.key_id, one_time_keys.c.key).where(
            one_time_keys.c.device_id == device_id, one_time_keys.c.key_id.in_(key_ids)
        )
    )
    return {row.key_id: row.key for row in result}


async def insert_one_time_keys(conn: Executor, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(one_time_keys), rows)


async def replace_fallback_key(conn: Executor, device_id: str, **values: Any) -> None:
    await conn.execute(delete(fallback_keys).where(fallback_keys.c.device_id == device_id))
    await conn.execute(insert(fallback_keys).values(device_id=device_id, used=False, **values))


async def fallback_unused(conn: Executor, device_id: str) -> bool:
    result = await conn.execute(_FALLBACK_USED, {"device_id": device_id})
    used = result.scalar_one_or_none()
    return used is not None and not used


# A claim for a whole group (one key for each of ~100 devices) runs these per device in one
# writer job: built once, not 200 times.
_FIRST_ONE_TIME_KEY = (
    select(one_time_keys)
    .where(one_time_keys.c.device_id == bindparam("device_id"))
    .order_by(one_time_keys.c.key_id)
    .limit(1)
)
_DELETE_ONE_TIME_KEY = delete(one_time_keys).where(
    one_time_keys.c.device_id == bindparam("device_id"),
    one_time_keys.c.key_id == bindparam("key_id"),
)
_FALLBACK_KEY = select(fallback_keys).where(fallback_keys.c.device_id == bindparam("device_id"))
_USE_FALLBACK_KEY = (
    update(fallback_keys)
    .where(fallback_keys.c.device_id == bindparam("device"))  # not a column's name: see SET
    .values(used=True)
)


async def take_one_time_key(conn: Executor, device_id: str) -> Record | None:
    """Remove and return one one-time key of the device (the caller serialises claims)."""
    row = (await conn.execute(_FIRST_ONE_TIME_KEY, {"device_id": device_id})).first()
    if row is not None:
        await conn.execute(_DELETE_ONE_TIME_KEY, {"device_id": device_id, "key_id": row.key_id})
    return row


async def use_fallback_key(conn: Executor, device_id: str) -> Record | None:
    row = (await conn.execute(_FALLBACK_KEY, {"device_id": device_id})).first()
    if row is not None and not row.used:
        await conn.execute(_USE_FALLBACK_KEY, {"device": device_id})
    return row


_DIRECTORY = (
    select(
        accounts.c.username,
        accounts.c.id.label("account_id"),
        devices.c.id.label("device_id"),
        devices.c.display_name,
        devices.c.curve25519,
        devices.c.ed25519,
        devices.c.identity_signature,
    )
    .join(devices, devices.c.account_id == accounts.c.id)
    .where(
        accounts.c.username.in_(bindparam("usernames", expanding=True)),
        accounts.c.status != "deactivated",
        devices.c.curve25519.is_not(None),
    )
    .order_by(accounts.c.username, devices.c.created_at)
)


async def directory(conn: Executor, usernames: list[str]) -> list[Record]:
    """Devices with published identity keys of the given accounts."""
    if not usernames:
        return []
    return list(await conn.execute(_DIRECTORY, {"usernames": usernames}))


_DEVICE_OWNERS = select(devices.c.id, devices.c.account_id).where(
    devices.c.id.in_(bindparam("device_ids", expanding=True))
)  # built once: every to-device request asks it


async def device_owners(conn: Executor, device_ids: list[str]) -> dict[str, str]:
    if not device_ids:
        return {}
    result = await conn.execute(_DEVICE_OWNERS, {"device_ids": device_ids})
    return {row.id: row.account_id for row in result}
