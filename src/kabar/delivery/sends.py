"""The write path's hot loop: a run of message sends, checked and stored in one go.

The writer hands every run of consecutive sends in a batch to :meth:`MessageRun.store`,
inside the batch's transaction: two set-based reads (repeated ``txn_id`` s, and the
senders' memberships with their conversations' last ``seq``) and one INSERT for the
whole run, through ``store/batch.py``'s plain SQL. In between, each send is checked
and given its ``seq``, its position and, where it carries a franking commitment,
the server's tag (DESIGN §4), which binds the commitment to the event's id and
position, known only here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from kabar.delivery import events as ev
from kabar.delivery.transaction import AppendedEvent, Sender, WriteTx
from kabar.errors import Conflict, ErrorCode, KabarError, NotFound
from kabar.ids import EventIdCodec
from kabar.protocol.franking import FrankingContext, server_tag
from kabar.store import batch as batch_store


@dataclass(slots=True)
class MessageSend:
    """A message send, validated by the caller; membership is checked in the batch."""

    conversation_id: str
    sender: Sender
    txn_id: str
    envelope_json: str
    commitment: bytes | None


@dataclass(frozen=True, slots=True)
class SentMessage:
    event: AppendedEvent
    duplicate: bool


Outcome = SentMessage | KabarError
"""A send's fate: what was sent (or, for a repeated ``txn_id``, the original), or why not."""


class MessageRun:
    """Stores runs of message sends for one writer (its event id codec and franking key)."""

    def __init__(self, codec: EventIdCodec, franking_secret: bytes) -> None:
        self.codec = codec
        self._franking_secret = franking_secret

    def store(self, sync: Connection, tx: WriteTx, sends: list[MessageSend]) -> list[Outcome]:
        """Check and store a run of consecutive sends: a few set-based statements for all
        of them. Each send's outcome, in order: what was sent, or why it was refused."""
        existing = batch_store.events_by_txn(sync, {(m.sender.device_id, m.txn_id) for m in sends})
        memberships, seqs = batch_store.memberships_and_seqs(
            sync, {(m.conversation_id, m.sender.account_id) for m in sends}
        )
        for conversation_id, last_seq in seqs.items():
            # Earlier jobs of this batch may have advanced it already.
            tx.seqs.setdefault(conversation_id, last_seq)
        outcomes: list[Outcome] = []
        fresh: dict[tuple[str, str], SentMessage] = {}
        for message in sends:
            key = (message.sender.device_id, message.txn_id)
            try:
                outcomes.append(self._one(tx, message, key, existing, fresh, memberships))
            except KabarError as exc:
                outcomes.append(exc)
        batch_store.insert_events(sync, tx.event_rows)
        tx.event_rows = []
        return outcomes

    def _one(
        self,
        tx: WriteTx,
        message: MessageSend,
        key: tuple[str, str],
        existing: dict[tuple[str, str], Any],
        fresh: dict[tuple[str, str], SentMessage],
        memberships: set[tuple[str, str]],
    ) -> SentMessage:
        if key in existing:
            row = existing[key]
            if row.conversation_id != message.conversation_id:
                raise Conflict(
                    "this txn_id was already used for another conversation",
                    code=ErrorCode.TXN_ID_REUSED,
                )
            original = AppendedEvent(
                event_id=self.codec.encode(row.pos),
                pos=row.pos,
                seq=row.seq,
                ts=row.created_at,
                franking_tag=row.franking_tag,
            )
            return SentMessage(event=original, duplicate=True)
        if key in fresh:
            return SentMessage(event=fresh[key].event, duplicate=True)
        if (message.conversation_id, message.sender.account_id) not in memberships:
            raise NotFound("no such conversation", code=ErrorCode.CONVERSATION_NOT_FOUND)
        seq = tx.bump_seq(message.conversation_id)
        # The tag binds the commitment to this event's position and id, known only now.
        tag = event_id = None
        if message.commitment is not None:
            position = tx.pos + 1
            event_id = self.codec.encode(position)
            context = FrankingContext(
                conversation_id=message.conversation_id,
                sender_account_id=message.sender.account_id,
                sender_device_id=message.sender.device_id,
                event_id=event_id,
                position=position,
                timestamp_ms=tx.now_ms,
            )
            raw_tag = server_tag(self._franking_secret, message.commitment, context)
            tag = base64.b64encode(raw_tag).decode()
        appended = tx.record(
            ev.MESSAGE,
            message.envelope_json,
            conversation_id=message.conversation_id,
            seq=seq,
            sender=message.sender,
            txn_id=message.txn_id,
            franking_tag=tag,
            event_id=event_id,
            dispatch=ev.Dispatch(pos=0, conversation_id=message.conversation_id),
        )
        sent = SentMessage(event=appended, duplicate=False)
        fresh[key] = sent
        return sent
