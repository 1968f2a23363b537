"""View counts, deduplicated per viewer per day, without keeping who viewed.

A view is counted once per article, viewer and UTC day. The viewer is the
signed-in account, else the client address (IPv6 addresses by their /64
prefix, which one household or phone usually shares). What is stored is not
the viewer but ``HMAC-SHA256(day key, day ‖ article ‖ viewer)``, and the day key
is a random secret made for that day and deleted with that day's hashes
after it ends (the scheduler's housekeeping). While the key exists the hashes
only answer "was this viewer already counted today"; once it is gone nobody —
not even the operator — can test an address or account against them. Only
the count on the article remains.

Recording is best effort: a failure is logged and the page is served anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import time

from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.store import engagement as store
from kabar.store.database import Database

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400


def today() -> int:
    """Days since the epoch, UTC."""
    return int(time.time() // DAY_SECONDS)


def viewer_identity(account_id: str | None, address: str) -> str:
    """Who counts as one viewer: the account, else the address (IPv6 by /64)."""
    if account_id is not None:
        return f"a:{account_id}"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"ip:{address}"
    if ip.version == 6:
        return f"ip:{ipaddress.ip_network(f'{ip}/64', strict=False).network_address}/64"
    return f"ip:{ip}"


class ViewCounter:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._db = database
        self._writer = writer
        self._keys: dict[int, bytes] = {}

    async def record(self, article_id: str, viewer: str) -> None:
        """Count one view of a published article by ``viewer`` (see :func:`viewer_identity`)."""
        day = today()
        try:
            key = await self._key(day)
            digest = hmac.new(
                key, f"{day}\x00{article_id}\x00{viewer}".encode(), hashlib.sha256
            ).hexdigest()

            async def job(tx: WriteTx) -> None:
                await store.record_views(tx.conn, [(day, article_id, digest)])

            await self._writer.run(job)
        except Exception:
            log.warning("could not record a view of %s", article_id, exc_info=True)

    async def _key(self, day: int) -> bytes:
        key = self._keys.get(day)
        if key is not None:
            return key
        async with self._db.read() as conn:
            key = await store.view_key(conn, day)
        if key is None:
            secret = os.urandom(32)

            async def job(tx: WriteTx) -> bytes:
                return await store.create_view_key(tx.conn, day, secret)

            key = await self._writer.run(job)
        self._keys = {d: k for d, k in self._keys.items() if d >= day - 1}
        self._keys[day] = key
        return key

    async def forget_old_days(self) -> None:
        """Delete the hashes and keys of days before yesterday."""
        cutoff = today() - 1

        async def job(tx: WriteTx) -> None:
            await store.forget_views_before(tx.conn, cutoff)

        await self._writer.run(job)
        self._keys = {d: k for d, k in self._keys.items() if d >= cutoff}
