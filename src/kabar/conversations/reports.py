"""Franked message reports: verifying what a recipient reveals, and keeping the proof.

A recipient reports a message by revealing its canonical content ``M`` and
franking key ``fk`` with the event id (DESIGN §4, ``docs/e2e.md`` § franking).
The server then checks three things, from nothing but its own records:

1. the reporter's account could see the event (a membership period covers its
   position) — so only a recipient can report, and only what it received;
2. ``HMAC-SHA256(fk, M)`` equals the commitment stored in the event's envelope —
   the sender encrypted exactly ``M`` under that commitment;
3. ``HMAC-SHA256(server_secret, c ‖ context)`` equals the tag the server stored
   when it committed the event, where the context is the conversation, sender
   account and device, event id, position and time — so the commitment really
   came from that sender there and then, and no stored field was swapped.

Only then is a :data:`~kabar.store.schema.message_reports` record written with
the revealed text. Every failure is the same 403 ``report_unverifiable`` (an
unknown event and someone else's event look alike), except malformed input
(400 ``invalid_report``). The server learns nothing about any other message.

:func:`verify_franked` is the pure check; :class:`ReportService` adds storage,
rate limits and idempotency (one report per reporter and event). A recorded
report opens or joins the message's moderation case (kabar.moderation.cases).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kabar.accounts.models import Principal
from kabar.accounts.ratelimit import RateLimiter
from kabar.config import RateLimitsConfig
from kabar.delivery import events as ev
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import ErrorCode, Forbidden, InvalidRequest
from kabar.ids import EventIdCodec, new_id
from kabar.protocol import franking
from kabar.store import events as event_store
from kabar.store import reports as store
from kabar.store.database import Database

if TYPE_CHECKING:
    from kabar.moderation.service import ModerationService

MESSAGE_MAX_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ReportedEvent:
    """What the server stored about a message event, as the verification needs it."""

    pos: int
    event_id: str
    conversation_id: str
    sender_account: str
    sender_device: str
    created_at: int
    commitment: bytes
    tag: bytes

    @property
    def context(self) -> franking.FrankingContext:
        return franking.FrankingContext(
            conversation_id=self.conversation_id,
            sender_account_id=self.sender_account,
            sender_device_id=self.sender_device,
            event_id=self.event_id,
            position=self.pos,
            timestamp_ms=self.created_at,
        )


@dataclass(frozen=True, slots=True)
class MessageReport:
    report_id: str
    event_id: str
    conversation_id: str
    sender_account: str
    sender_device: str
    message: str
    created_at: int
    duplicate: bool


def verify_franked(
    server_secret: bytes, event: ReportedEvent, message: bytes, franking_key: bytes
) -> bool:
    """Both MACs: ``fk`` opens the commitment to ``M``, and the tag binds it to the event."""
    return franking.opens(franking_key, message, event.commitment) and franking.tag_matches(
        server_secret, event.commitment, event.context, event.tag
    )


def unverifiable(detail: str = "this report does not verify") -> Forbidden:
    return Forbidden(detail, code=ErrorCode.REPORT_UNVERIFIABLE)


def decode_b64(value: str, what: str, length: int | None = None) -> bytes:
    """Padded or unpadded standard base64, as clients write it (docs/e2e.md § encodings)."""
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is None or (length is not None and len(raw) != length):
        size = f" of {length} bytes" if length else ""
        raise InvalidRequest(f"{what} must be base64{size}", code=ErrorCode.INVALID_REPORT)
    return raw


class ReportService:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        codec: EventIdCodec,
        franking_secret: bytes,
        limiter: RateLimiter,
        rate_limits: RateLimitsConfig,
        moderation: ModerationService | None = None,
    ) -> None:
        self._db = database
        self._writer = writer
        self._codec = codec
        self._secret = franking_secret
        self._limiter = limiter
        self._rates = rate_limits
        self._moderation = moderation

    async def verify(
        self, reporter_account_id: str, event_id: str, message: bytes, franking_key: bytes
    ) -> ReportedEvent:
        """The event, if this account received it and ``M``/``fk`` verify; else 403."""
        pos = self._codec.decode(event_id)
        if pos is None:
            raise unverifiable("no message you received has this id")
        async with self._db.read() as conn:
            event = await self._reported_event(conn, pos)
            if event is None or not await store.could_see(
                conn, event.conversation_id, reporter_account_id, pos
            ):
                raise unverifiable("no message you received has this id")
        if not verify_franked(self._secret, event, message, franking_key):
            raise unverifiable("the message and franking key do not match this event")
        return event

    async def report(
        self,
        principal: Principal,
        event_id: str,
        message_b64: str,
        franking_key_b64: str,
        reason: str | None = None,
        policy_item: str | None = None,
    ) -> MessageReport:
        """Verify and record a report; repeating it returns the first record."""
        await self._limiter.hit("report", principal.account_id, self._rates.report_per_account)
        message = decode_b64(message_b64, "message")
        if len(message) > MESSAGE_MAX_BYTES:
            raise InvalidRequest(
                "a reported message is at most 64 KiB", code=ErrorCode.INVALID_REPORT
            )
        try:
            text = message.decode()
        except UnicodeDecodeError:
            raise InvalidRequest(
                "a reported message is UTF-8 canonical JSON", code=ErrorCode.INVALID_REPORT
            ) from None
        key = decode_b64(franking_key_b64, "franking_key", franking.KEY_BYTES)
        if policy_item is not None and self._moderation is not None:
            self._moderation.deps.policy.item(policy_item)  # 400 before any work
        event = await self.verify(principal.account_id, event_id, message, key)
        report_id = new_id("r")

        async def job(tx: WriteTx) -> MessageReport:
            existing = await store.report_of(tx.conn, principal.account_id, event.pos)
            if existing is not None:
                return _report(existing, event.event_id, duplicate=True)
            values = {
                "id": report_id,
                "reporter_account": principal.account_id,
                "reporter_device": principal.device_id,
                "event_pos": event.pos,
                "conversation_id": event.conversation_id,
                "sender_account": event.sender_account,
                "sender_device": event.sender_device,
                "message": text,
                "reason": reason,
                "created_at": tx.now_ms,
            }
            await store.insert_report(tx.conn, **values)
            if self._moderation is not None:
                # The verified message opens (or joins) its moderation case in the same commit.
                await self._moderation.message_reported(
                    tx,
                    event_id=event.event_id,
                    sender_account=event.sender_account,
                    message=text,
                    conversation_id=event.conversation_id,
                    reporter=principal.account_id,
                    policy_item=policy_item,
                    note=reason,
                )
            return MessageReport(
                report_id=report_id,
                event_id=event.event_id,
                conversation_id=event.conversation_id,
                sender_account=event.sender_account,
                sender_device=event.sender_device,
                message=text,
                created_at=tx.now_ms,
                duplicate=False,
            )

        result: MessageReport = await self._writer.run(job)
        return result

    async def _reported_event(self, conn: Any, pos: int) -> ReportedEvent | None:
        row = await event_store.event_at(conn, pos)
        if (
            row is None
            or row.type != ev.MESSAGE
            or row.conversation_id is None
            or row.sender_account is None
            or row.sender_device is None
            or row.franking_tag is None
        ):
            return None
        try:
            commitment_text = json.loads(row.content).get("franking_commitment")
            commitment = decode_b64(str(commitment_text), "commitment", franking.COMMITMENT_BYTES)
            tag = decode_b64(row.franking_tag, "tag")
        except (ValueError, AttributeError, InvalidRequest):
            return None
        return ReportedEvent(
            pos=pos,
            event_id=self._codec.encode(pos),
            conversation_id=row.conversation_id,
            sender_account=row.sender_account,
            sender_device=row.sender_device,
            created_at=row.created_at,
            commitment=commitment,
            tag=tag,
        )


def _report(row: Any, event_id: str, *, duplicate: bool) -> MessageReport:
    return MessageReport(
        report_id=row.id,
        event_id=event_id,
        conversation_id=row.conversation_id,
        sender_account=row.sender_account,
        sender_device=row.sender_device,
        message=row.message,
        created_at=row.created_at,
        duplicate=duplicate,
    )
