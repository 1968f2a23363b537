"""Getting keys to devices: Olm sessions on demand, room keys before a send, late shares.

* :meth:`KeySharing.send_encrypted` — Olm-encrypt one content to many devices,
  claiming a one-time key (``POST /v1/keys/claim``, fallback key when none is
  left) for every device we have no session with, then ``POST /v1/to-device``.
  The Olm state is saved *before* the payloads leave: a crash after sending
  must never let the ratchet step be reused.
* :meth:`KeySharing.share_room_key` — the DESIGN §4 send path: ``prepare`` the
  outbound Megolm session (rotating it if it is old, full, or was shared with a
  device no longer among the recipients) and share it with every device that
  lacks it.
* :meth:`KeySharing.late_share` — a device announced after we had already sent
  with the current session (a member's new device, a new member: the event can
  reach us after our send reached the server) gets the key from the first
  message sent after its announcement, so it reads everything after it joined
  and nothing before.

A device whose key claim fails (no one-time key, no fallback key) is skipped
and gets the key at the next send.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import Any

from kabar.client.api import Api
from kabar.client.crypto.device import DeviceKeys
from kabar.client.crypto.errors import CryptoError
from kabar.client.crypto.olm import ALGORITHM as OLM_ALGORITHM
from kabar.client.engine import CryptoEngine

log = logging.getLogger(__name__)

CLAIM_CHUNK = 500
TO_DEVICE_CHUNK = 500
OUTBOUND_LOG = "outbound_log"


class KeySharing:
    def __init__(self, api: Api, engine: CryptoEngine) -> None:
        self._api = api
        self._engine = engine
        # conversation id -> [session id, [[seq, message index], …]] of our own sends
        self._log: dict[str, list[Any]] = {}
        self.reload()

    def reload(self) -> None:
        self._log = self._engine.store.get_setting(OUTBOUND_LOG, {})

    async def ensure_olm_sessions(self, devices: list[DeviceKeys]) -> list[DeviceKeys]:
        """Open Olm sessions where missing; return the devices we can now encrypt to."""
        olm = self._engine.olm
        missing = olm.devices_without_session(devices)
        for start in range(0, len(missing), CLAIM_CHUNK):
            chunk = missing[start : start + CLAIM_CHUNK]
            answer = await self._api.claim_keys([d.device_id for d in chunk])
            for device in chunk:
                claimed = answer["keys"].get(device.device_id)
                if claimed is None:
                    log.info("no key to claim for %s/%s", device.username, device.device_id)
                    continue
                try:
                    olm.create_outbound_session(device, claimed)
                except CryptoError as exc:
                    log.warning("bad claimed key of %s: %s", device.device_id, exc)
        return [d for d in devices if olm.has_session(d)]

    async def send_encrypted(
        self, content: dict[str, Any], devices: Iterable[DeviceKeys]
    ) -> list[DeviceKeys]:
        """Olm-encrypt ``content`` to each device and send it; return who it went to."""
        targets = await self.ensure_olm_sessions(list(devices))
        if not targets:
            return []
        payloads = self._engine.olm.encrypt(content, targets)
        self._engine.save()
        by_device = {device_id: payload for (_, device_id), payload in payloads.items()}
        ids = sorted(by_device)
        for start in range(0, len(ids), TO_DEVICE_CHUNK):
            chunk = {d: by_device[d] for d in ids[start : start + TO_DEVICE_CHUNK]}
            await self._api.send_to_device(secrets.token_hex(12), OLM_ALGORITHM, chunk)
        return targets

    async def share_room_key(self, conversation_id: str, devices: list[DeviceKeys]) -> bool:
        """Make the outbound session current and shared; True if a new session started."""
        megolm = self._engine.megolm
        before = megolm.outbound_session_id(conversation_id)
        needing = megolm.prepare(conversation_id, devices)
        started = megolm.outbound_session_id(conversation_id) != before
        if started:
            self._log[conversation_id] = [megolm.outbound_session_id(conversation_id), []]
            self._save_log()
        if needing:
            delivered = await self.send_encrypted(megolm.room_key(conversation_id), needing)
            megolm.mark_shared(conversation_id, delivered)
            self._engine.save()
        return started

    def record_send(self, conversation_id: str, session_id: str, seq: int, index: int) -> None:
        """Remember which message index went out at which ``seq`` (for late shares)."""
        entry = self._log.get(conversation_id)
        if entry is None or entry[0] != session_id:
            entry = self._log[conversation_id] = [session_id, []]
        entry[1].append([seq, index])
        self._save_log()

    def rotate(self, conversation_id: str) -> None:
        """A member left or was removed: the next send starts and shares a new session."""
        self._engine.megolm.rotate(conversation_id)
        if self._log.pop(conversation_id, None) is not None:
            self._save_log()

    async def late_share(
        self, conversation_id: str, devices: list[DeviceKeys], after_seq: int
    ) -> None:
        """Give ``devices`` the current session from our first message after ``after_seq``."""
        megolm = self._engine.megolm
        session_id = megolm.outbound_session_id(conversation_id)
        entry = self._log.get(conversation_id)
        if session_id is None or entry is None or entry[0] != session_id:
            return
        indexes = [index for seq, index in entry[1] if seq > after_seq]
        shared = megolm.shared_with(conversation_id)
        own = self._engine.identity.curve25519
        missed = [d for d in devices if d.curve25519 not in shared and d.curve25519 != own]
        if not indexes or not missed:
            return
        content = megolm.room_key_at(conversation_id, min(indexes))
        delivered = await self.send_encrypted(content, missed)
        megolm.mark_shared(conversation_id, delivered)
        self._engine.save()

    def _save_log(self) -> None:
        self._engine.store.set_setting(OUTBOUND_LOG, self._log)
