"""The end-to-end key directory: identity keys, one-time keys, fallback keys and claims.

The server checks every signature (a device signs its own keys with its Ed25519
identity key; see ``kabar.protocol.signing``) but never holds a private key.
Claims run inside the writer's serial batches — on PostgreSQL under the stream
row lock shared by all nodes — so two concurrent claims can never be handed the
same one-time key; when a device has none left, its fallback key is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kabar.accounts.models import Principal, normalise_username
from kabar.accounts.ratelimit import RateLimiter
from kabar.accounts.service import announce_device_change
from kabar.config import LimitsConfig, RateLimitsConfig
from kabar.delivery import control
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import Conflict, ErrorCode, InvalidRequest
from kabar.protocol.signing import (
    identity_payload,
    is_curve25519_key,
    is_ed25519_key,
    one_time_key_payload,
    verify_ed25519,
)
from kabar.store import accounts as account_store
from kabar.store import keys as store
from kabar.store.database import Database


@dataclass(frozen=True, slots=True)
class SignedKey:
    key_id: str
    key: str
    signature: str


@dataclass(frozen=True, slots=True)
class DeviceKeys:
    username: str
    account_id: str
    device_id: str
    display_name: str
    curve25519: str
    ed25519: str
    signature: str


@dataclass(frozen=True, slots=True)
class ClaimedKey:
    device_id: str
    key_id: str
    key: str
    signature: str
    fallback: bool


@dataclass(frozen=True, slots=True)
class KeyCounts:
    one_time_keys: int
    fallback_unused: bool


class KeyService:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        bus: control.ControlBus,
        limiter: RateLimiter,
        rate_limits: RateLimitsConfig,
        limits: LimitsConfig,
    ) -> None:
        self._db = database
        self._writer = writer
        self._bus = bus
        self._limiter = limiter
        self._rates = rate_limits
        self._limits = limits
        self._counts: dict[str, KeyCounts] = {}
        # Bumped on every invalidation, so a read that raced a change is not cached.
        self._generation = 0
        bus.on(control.KEYS_CHANGED, self._forget_counts)
        bus.on(control.DEVICES_REVOKED, self._forget_counts)

    async def upload_identity(
        self, principal: Principal, curve25519: str, ed25519: str, signature: str
    ) -> None:
        if not is_curve25519_key(curve25519) or not is_ed25519_key(ed25519):
            raise InvalidRequest(
                "curve25519 and ed25519 must be base64 public keys", code=ErrorCode.INVALID_KEY
            )
        payload = identity_payload(principal.username, principal.device_id, curve25519, ed25519)
        if not verify_ed25519(ed25519, payload, signature):
            raise InvalidRequest(
                "the identity keys are not signed by their Ed25519 key",
                code=ErrorCode.INVALID_SIGNATURE,
            )

        async def job(tx: WriteTx) -> None:
            row = await account_store.device(tx.conn, principal.device_id)
            assert row is not None
            if row.curve25519 is not None:
                if (row.curve25519, row.ed25519) != (curve25519, ed25519):
                    raise Conflict(
                        "a device's identity keys never change; log in as a new device",
                        code=ErrorCode.IDENTITY_KEYS_IMMUTABLE,
                    )
                return
            await account_store.update_device(
                tx.conn,
                principal.device_id,
                curve25519=curve25519,
                ed25519=ed25519,
                identity_signature=signature,
            )
            await announce_device_change(tx, principal)

        await self._writer.run(job)

    async def upload_keys(
        self, principal: Principal, one_time_keys: list[SignedKey], fallback: SignedKey | None
    ) -> KeyCounts:
        async with self._db.read() as conn:
            device = await account_store.device(conn, principal.device_id)
        if device is None or device.ed25519 is None:
            raise Conflict(
                "upload the device's identity keys first", code=ErrorCode.IDENTITY_KEYS_MISSING
            )
        for key, is_fallback in [(k, False) for k in one_time_keys] + (
            [(fallback, True)] if fallback else []
        ):
            self._check_signed(principal, device.ed25519, key, fallback=is_fallback)
        if len({k.key_id for k in one_time_keys}) != len(one_time_keys):
            raise InvalidRequest("one-time key ids must be unique", code=ErrorCode.INVALID_KEY)
        limit = self._limits.one_time_keys_max

        async def job(tx: WriteTx) -> KeyCounts:
            ids = [k.key_id for k in one_time_keys]
            existing = await store.existing_key_ids(tx.conn, principal.device_id, ids)
            for key in one_time_keys:
                if key.key_id in existing and existing[key.key_id] != key.key:
                    raise Conflict(
                        f"key id {key.key_id} is already used for another key",
                        code=ErrorCode.INVALID_KEY,
                    )
            new = [k for k in one_time_keys if k.key_id not in existing]
            count = await store.count_one_time_keys(tx.conn, principal.device_id)
            if count + len(new) > limit:
                raise Conflict(
                    f"a device holds at most {limit} one-time keys", code=ErrorCode.TOO_MANY_KEYS
                )
            await store.insert_one_time_keys(
                tx.conn,
                [
                    {
                        "device_id": principal.device_id,
                        "key_id": k.key_id,
                        "key": k.key,
                        "signature": k.signature,
                    }
                    for k in new
                ],
            )
            if fallback is not None:
                await store.replace_fallback_key(
                    tx.conn,
                    principal.device_id,
                    key_id=fallback.key_id,
                    key=fallback.key,
                    signature=fallback.signature,
                )
            counts = KeyCounts(
                count + len(new), await store.fallback_unused(tx.conn, principal.device_id)
            )
            tx.after_commit(lambda: self._changed([principal.device_id]))
            return counts

        counts: KeyCounts = await self._writer.run(job)
        return counts

    def _check_signed(
        self, principal: Principal, ed25519: str, key: SignedKey, *, fallback: bool
    ) -> None:
        if not key.key_id or len(key.key_id) > 64 or not is_curve25519_key(key.key):
            raise InvalidRequest(
                f"key {key.key_id!r} is not a Curve25519 public key", code=ErrorCode.INVALID_KEY
            )
        payload = one_time_key_payload(principal.device_id, key.key_id, key.key, fallback=fallback)
        if not verify_ed25519(ed25519, payload, key.signature):
            raise InvalidRequest(
                f"key {key.key_id!r} is not signed by this device's identity key",
                code=ErrorCode.INVALID_SIGNATURE,
            )

    async def query(self, usernames: list[str]) -> dict[str, list[DeviceKeys]]:
        names = sorted({normalise_username(u) for u in usernames})
        async with self._db.read() as conn:
            rows = await store.directory(conn, names)
        result: dict[str, list[DeviceKeys]] = {}
        for r in rows:
            result.setdefault(r.username, []).append(
                DeviceKeys(
                    username=r.username,
                    account_id=r.account_id,
                    device_id=r.device_id,
                    display_name=r.display_name,
                    curve25519=r.curve25519,
                    ed25519=r.ed25519,
                    signature=r.identity_signature,
                )
            )
        return result

    async def claim(
        self, principal: Principal, device_ids: list[str], address: str
    ) -> dict[str, ClaimedKey]:
        """One key per device: a one-time key while any is left, then the fallback key."""
        await self._limiter.hit("claim", principal.account_id, self._rates.claim_per_account)
        await self._limiter.hit("claim_address", address, self._rates.claim_per_address)
        wanted = list(dict.fromkeys(device_ids))

        async def job(tx: WriteTx) -> dict[str, ClaimedKey]:
            claimed: dict[str, ClaimedKey] = {}
            for device_id in wanted:
                row: Any = await store.take_one_time_key(tx.conn, device_id)
                fallback = row is None
                if fallback:
                    row = await store.use_fallback_key(tx.conn, device_id)
                if row is not None:
                    claimed[device_id] = ClaimedKey(
                        device_id, row.key_id, row.key, row.signature, fallback
                    )
            tx.after_commit(lambda: self._changed(list(claimed)))
            return claimed

        result: dict[str, ClaimedKey] = await self._writer.run(job)
        return result

    async def counts(self, device_id: str) -> KeyCounts:
        cached = self._counts.get(device_id)
        if cached is not None:
            return cached
        generation = self._generation
        async with self._db.read() as conn:
            counts = KeyCounts(
                await store.count_one_time_keys(conn, device_id),
                await store.fallback_unused(conn, device_id),
            )
        if generation == self._generation:
            self._counts[device_id] = counts
        if len(self._counts) > 100_000:
            self._counts.clear()
        return counts

    def _changed(self, device_ids: list[str]) -> None:
        if device_ids:
            self._bus.publish(control.KEYS_CHANGED, devices=device_ids)

    def _forget_counts(self, data: dict[str, Any]) -> None:
        self._generation += 1
        for device_id in data.get("devices", ()):
            self._counts.pop(device_id, None)
