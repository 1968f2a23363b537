"""The send path of one message (DESIGN §4, ``docs/e2e.md`` § sending), step by step.

1. refresh the device lists of members that are stale (new, or announced as changed);
2. share the outbound Megolm session with every member device lacking it — starting
   a new one first if it is old, full, or was shared with a device no longer there;
3. encrypt, with a fresh franking key; **save** the ratchet before anything leaves,
   so a crash can never make us reuse a message index;
4. transmit (the caller's choice of socket or HTTP, one ``txn_id``);
5. keep the message in our history, note its index as already seen (a replay of our
   own ciphertext is caught), and log ``seq → index`` for late shares.

The caller holds the session lock throughout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from vodozemac import MegolmMessage

from kabar.client.crypto.errors import SessionNeedsRotation
from kabar.client.crypto.megolm import EncryptedMessage
from kabar.client.devices import DeviceTracker
from kabar.client.engine import CryptoEngine
from kabar.client.history import HistoryEntry
from kabar.client.keybackup import BackupManager
from kabar.client.members import Rosters
from kabar.client.sharing import KeySharing

Transmit = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class Outgoing:
    def __init__(
        self,
        engine: CryptoEngine,
        tracker: DeviceTracker,
        sharing: KeySharing,
        rosters: Rosters,
        backup: BackupManager,
    ) -> None:
        self._engine = engine
        self._tracker = tracker
        self._sharing = sharing
        self._rosters = rosters
        self._backup = backup

    async def send(
        self, conversation_id: str, content: dict[str, Any], transmit: Transmit
    ) -> HistoryEntry:
        encrypted = await self._encrypt(conversation_id, content)
        envelope = encrypted.envelope
        ack = await transmit(conversation_id, envelope)
        identity, store = self._engine.identity, self._engine.store
        entry = HistoryEntry(
            conversation_id,
            ack["event_id"],
            identity.username,
            int(ack["ts"]),
            dict(content),
            encrypted.message,
            encrypted.franking_key,
            identity.device_id,
        )
        index = MegolmMessage.from_base64(envelope["ciphertext"]).message_index()
        session_id = envelope["session_id"]
        # Not durable: lost on a power cut, the entry comes back as our own echo.
        with store.batch(durable=False):
            self._engine.megolm.inbound.record_seen(
                identity.curve25519, session_id, index, entry.event_id
            )
            self._engine.save()
            store.messages.add(entry)
            self._sharing.record_send(conversation_id, session_id, int(ack["seq"]), index)
        return entry

    async def _encrypt(self, conversation_id: str, content: dict[str, Any]) -> EncryptedMessage:
        members = await self._rosters.members(conversation_id)
        await self._tracker.refresh(members)
        devices = self._tracker.devices_of(members)
        megolm = self._engine.megolm
        for attempt in range(2):
            if await self._sharing.share_room_key(conversation_id, devices):
                session_id = megolm.outbound_session_id(conversation_id) or ""
                self._backup.queue(conversation_id, self._engine.identity.curve25519, session_id)
            try:
                encrypted = megolm.encrypt(conversation_id, content)
                break
            except SessionNeedsRotation:  # it expired between prepare and encrypt
                if attempt:
                    raise
        self._engine.save()  # never reuse a message index, even if we crash while sending
        return encrypted
