"""To-device messages: opaque payloads (Olm key shares) addressed to single devices.

One request carries payloads for many devices and is idempotent on
``(sender device, txn_id)``. Each payload is kept until the recipient device's
sync token has passed it (``ToDeviceJanitor``), then deleted. A device's queue
is capped (``limits.to_device_queue_max``): a device that has not synced for so
long that its queue is full accepts nothing more, and the sender is told which
devices were full so it can retry later — nothing already queued is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from kabar.accounts.models import Principal
from kabar.accounts.ratelimit import RateLimiter
from kabar.config import LimitsConfig, RateLimitsConfig
from kabar.delivery import events as ev
from kabar.delivery.transaction import Sender, WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import InvalidRequest, PayloadTooLarge
from kabar.store import events as store
from kabar.store import keys as key_store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ToDeviceResult:
    sent: int
    unknown_devices: list[str]
    duplicate: bool
    full_devices: list[str] = field(default_factory=list)


class ToDeviceService:
    def __init__(
        self,
        writer: Writer,
        limiter: RateLimiter,
        rate_limits: RateLimitsConfig,
        limits: LimitsConfig,
    ) -> None:
        self._writer = writer
        self._limiter = limiter
        self._rates = rate_limits
        self._limits = limits

    async def send(
        self,
        principal: Principal,
        txn_id: str,
        type: str,
        messages: dict[str, dict[str, object]],
        address: str,
    ) -> ToDeviceResult:
        await self._limiter.hit("send", principal.account_id, self._rates.send_per_account)
        await self._limiter.hit("send_address", address, self._rates.send_per_address)
        if len(messages) > self._limits.to_device_max_messages:
            raise InvalidRequest(
                f"at most {self._limits.to_device_max_messages} devices per request"
            )
        encoded = {device: ev.dumps(content) for device, content in messages.items()}
        for content_json in encoded.values():
            if len(content_json.encode()) > self._limits.to_device_max_bytes:
                raise PayloadTooLarge(
                    f"a to-device payload is at most {self._limits.to_device_max_bytes} bytes"
                )
        sender = Sender(principal.account_id, principal.username, principal.device_id)
        queue_max = self._limits.to_device_queue_max

        async def job(tx: WriteTx) -> ToDeviceResult:
            if await store.to_device_txn(tx.conn, principal.device_id, txn_id) is not None:
                return ToDeviceResult(sent=0, unknown_devices=[], duplicate=True)
            owners = await key_store.device_owners(tx.conn, list(encoded))
            unknown = sorted(d for d in encoded if d not in owners)
            pending = await store.pending_to_device(tx.conn, list(owners))
            full = sorted(d for d in owners if pending.get(d, 0) >= queue_max)
            targets = sorted(d for d in owners if d not in full)
            first = tx.pos + 1
            for device_id in targets:
                tx.append_to_device(device_id, type, sender, encoded[device_id])
            await store.record_to_device_txn(
                tx.conn, principal.device_id, txn_id, max(first, tx.pos), tx.now_ms
            )
            return ToDeviceResult(
                sent=len(targets), unknown_devices=unknown, duplicate=False, full_devices=full
            )

        result: ToDeviceResult = await self._writer.run(job)
        return result


class ToDeviceJanitor:
    """Deletes to-device messages a device has acknowledged by syncing past them.

    Deletion is garbage collection, not correctness (sync never returns
    positions at or below the token it was given), so it is batched every second
    into one writer job and may lag or fail without harm.
    """

    def __init__(self, writer: Writer, interval: float = 1.0) -> None:
        self._writer = writer
        self._interval = interval
        self._acked: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def acknowledge(self, device_id: str, position: int) -> None:
        if position > self._acked.get(device_id, 0):
            self._acked[device_id] = position

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="kabar-to-device-janitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._acked:
                await self.flush()

    async def flush(self) -> None:
        acked, self._acked = self._acked, {}

        async def job(tx: WriteTx) -> None:
            await store.delete_delivered_to_device(tx.conn, acked)

        try:
            await self._writer.run(job)
        except Exception:
            log.warning("could not delete delivered to-device messages; will retry", exc_info=True)
            for device_id, position in acked.items():
                self.acknowledge(device_id, position)
