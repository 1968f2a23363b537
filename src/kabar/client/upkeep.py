"""Keeping this device's keys on the server: the first upload, and one-time key top-ups.

The server should always hold ``ONE_TIME_KEY_TARGET`` (50) signed one-time keys
so others can open Olm sessions while we are offline, plus a fallback key for
when they run out. Sync (and the WebSocket ``ready`` frame) reports the
remaining count; once it falls below half, or the fallback key was used, we
generate and upload new ones. Private halves are saved before public halves
leave the device; keys are marked published only after the server took them,
so a failed upload is simply retried with the same keys.
"""

from __future__ import annotations

from kabar.client.api import Api
from kabar.client.crypto.device import ONE_TIME_KEY_TARGET
from kabar.client.engine import CryptoEngine

TOP_UP_BELOW = ONE_TIME_KEY_TARGET // 2
PUBLISHED = "keys_published"


class KeyUpkeep:
    def __init__(self, api: Api, engine: CryptoEngine) -> None:
        self._api = api
        self._engine = engine

    async def publish(self) -> None:
        """Upload identity, one-time and fallback keys (once; resumes a failed first try)."""
        store = self._engine.store
        if store.get_setting(PUBLISHED):
            return
        identity = self._engine.identity
        await self._api.upload_identity(identity.identity_upload())
        keys = identity.generate_one_time_keys(ONE_TIME_KEY_TARGET)
        fallback = identity.generate_fallback_key()
        self._engine.save()
        await self._api.upload_keys(keys, fallback)
        identity.mark_published()
        self._engine.save()
        store.set_setting(PUBLISHED, True)

    async def top_up(self, count: int, fallback_unused: bool) -> None:
        """Restock after the server reported ``count`` one-time keys left."""
        if count >= TOP_UP_BELOW and fallback_unused:
            return
        identity = self._engine.identity
        needed = identity.one_time_keys_needed(count)
        keys = identity.generate_one_time_keys(needed) if needed else []
        fallback = None if fallback_unused else identity.generate_fallback_key()
        self._engine.save()
        await self._api.upload_keys(keys, fallback)
        identity.mark_published()
        self._engine.save()

    async def check(self) -> None:
        """Ask the server for the count (after pre-key messages used some keys up)."""
        counts = await self._api.key_count()
        await self.top_up(counts["one_time_key_count"], counts["fallback_key_unused"])
