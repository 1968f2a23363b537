"""Conversation actions: create, read, change membership, send opaque messages, page history.

The server never looks inside a message: an envelope is an algorithm name, a
ciphertext and, optionally, the Megolm session id, the sender's Curve25519 key
and a franking commitment (DESIGN §4). It is stored and relayed as JSON text.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from kabar.accounts.models import Principal
from kabar.accounts.ratelimit import RateLimiter
from kabar.config import LimitsConfig, RateLimitsConfig
from kabar.conversations import deletion
from kabar.conversations import membership as jobs
from kabar.conversations.roles import MemberRole
from kabar.delivery import events as ev
from kabar.delivery.render import event_dispatch, sender_ids
from kabar.delivery.sends import MessageSend, SentMessage
from kabar.delivery.transaction import Sender, WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import ErrorCode, InvalidRequest, PayloadTooLarge
from kabar.ids import EventIdCodec, looks_like_id
from kabar.protocol.franking import COMMITMENT_BYTES
from kabar.store import conversations as store
from kabar.store import events as event_store
from kabar.store.database import Database
from kabar.store.names import UsernameCache


@dataclass(frozen=True, slots=True)
class Member:
    account_id: str
    username: str
    display_name: str
    role: str


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    conversation_id: str
    kind: str
    title: str | None
    created_at: int
    last_seq: int
    member_count: int
    my_role: str
    members: list[Member] | None = None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    events: list[bytes]
    next_before: int | None


@dataclass(frozen=True, slots=True)
class Envelope:
    algorithm: str
    ciphertext: str
    session_id: str | None = None
    sender_key: str | None = None
    franking_commitment: str | None = None


class ConversationService:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        codec: EventIdCodec,
        names: UsernameCache,
        limiter: RateLimiter,
        rate_limits: RateLimitsConfig,
        limits: LimitsConfig,
    ) -> None:
        self._db = database
        self._writer = writer
        self._codec = codec
        self._names = names
        self._limiter = limiter
        self._rates = rate_limits
        self._limits = limits

    # -- reads ------------------------------------------------------------------------------

    async def mine(self, principal: Principal) -> list[ConversationInfo]:
        async with self._db.read() as conn:
            rows = await store.conversations_of(conn, principal.account_id)
        return [_info(r, r.role) for r in rows]

    async def get(self, principal: Principal, conversation_id: str) -> ConversationInfo:
        if not looks_like_id(conversation_id, "c"):
            raise jobs.not_found()
        async with self._db.read() as conn:
            mine = await store.membership(conn, conversation_id, principal.account_id)
            if mine is None:
                raise jobs.not_found()
            row = await store.conversation(conn, conversation_id)
            members = await store.members_of(conn, conversation_id)
        assert row is not None
        return _info(
            row,
            mine.role,
            [Member(m.account_id, m.username, m.display_name, m.role) for m in members],
        )

    async def history(
        self, principal: Principal, conversation_id: str, before_seq: int | None, limit: int
    ) -> HistoryPage:
        """Events the account may see, newest first, before ``before_seq``."""
        if not looks_like_id(conversation_id, "c"):
            raise jobs.not_found()
        limit = max(1, min(limit, self._limits.history_page_max))
        async with self._db.read() as conn:
            if not await store.was_ever_member(conn, conversation_id, principal.account_id):
                raise jobs.not_found()
            rows = await event_store.conversation_history(
                conn, conversation_id, principal.account_id, before_seq, limit
            )
            await self._names.resolve(conn, sender_ids(rows))
        frames = [event_dispatch(r, self._codec, self._names).frame for r in rows]
        next_before = rows[-1].seq if len(rows) == limit and rows[-1].seq > 1 else None
        return HistoryPage(events=frames, next_before=next_before)

    # -- membership -------------------------------------------------------------------------

    async def create_group(self, principal: Principal, title: str, usernames: list[str]) -> str:
        max_members = self._limits.group_max_members

        async def job(tx: WriteTx) -> str:
            return await jobs.create_group(tx, principal, title, usernames, max_members)

        conversation_id: str = await self._writer.run(job)
        return conversation_id

    async def open_direct(self, principal: Principal, username: str) -> tuple[str, bool]:
        async def job(tx: WriteTx) -> tuple[str, bool]:
            return await jobs.create_direct(tx, principal, username)

        result: tuple[str, bool] = await self._writer.run(job)
        return result

    async def add_members(
        self, principal: Principal, conversation_id: str, usernames: list[str]
    ) -> list[str]:
        self._check_id(conversation_id)
        max_members = self._limits.group_max_members

        async def job(tx: WriteTx) -> list[str]:
            return await jobs.add_members(tx, principal, conversation_id, usernames, max_members)

        added: list[str] = await self._writer.run(job)
        return added

    async def remove_member(
        self, principal: Principal, conversation_id: str, username: str
    ) -> None:
        self._check_id(conversation_id)

        async def job(tx: WriteTx) -> None:
            await jobs.remove_member(tx, principal, conversation_id, username)

        await self._writer.run(job)

    async def leave(self, principal: Principal, conversation_id: str) -> None:
        self._check_id(conversation_id)

        async def job(tx: WriteTx) -> None:
            await jobs.leave(tx, principal, conversation_id)

        await self._writer.run(job)

    async def set_role(
        self, principal: Principal, conversation_id: str, username: str, role: str
    ) -> None:
        self._check_id(conversation_id)
        try:
            new_role = MemberRole(role)
        except ValueError:
            raise InvalidRequest(
                "role must be owner, admin or member", code=ErrorCode.INVALID_ROLE
            ) from None

        async def job(tx: WriteTx) -> None:
            await jobs.set_role(tx, principal, conversation_id, username, new_role)

        await self._writer.run(job)

    async def rename(self, principal: Principal, conversation_id: str, title: str) -> None:
        self._check_id(conversation_id)

        async def job(tx: WriteTx) -> None:
            await jobs.rename(tx, principal, conversation_id, title)

        await self._writer.run(job)

    # -- messages ---------------------------------------------------------------------------

    async def delete_message(
        self, principal: Principal, conversation_id: str, event_id: str
    ) -> None:
        self._check_id(conversation_id)

        async def job(tx: WriteTx) -> None:
            await deletion.delete_message(tx, principal, conversation_id, event_id)

        await self._writer.run(job)

    async def send(
        self,
        principal: Principal,
        conversation_id: str,
        txn_id: str,
        envelope: Envelope,
        address: str,
    ) -> SentMessage:
        self._check_id(conversation_id)
        await self._limiter.hit("send", principal.account_id, self._rates.send_per_account)
        await self._limiter.hit("send_address", address, self._rates.send_per_address)
        content = {
            k: v
            for k, v in (
                ("algorithm", envelope.algorithm),
                ("ciphertext", envelope.ciphertext),
                ("session_id", envelope.session_id),
                ("sender_key", envelope.sender_key),
                ("franking_commitment", envelope.franking_commitment),
            )
            if v is not None
        }
        envelope_json = ev.dumps(content)
        if len(envelope_json.encode()) > self._limits.message_max_bytes:
            raise PayloadTooLarge(
                f"a message envelope is at most {self._limits.message_max_bytes} bytes"
            )
        commitment = _decode_commitment(envelope.franking_commitment)
        return await self._writer.send_message(
            MessageSend(
                conversation_id=conversation_id,
                sender=Sender(principal.account_id, principal.username, principal.device_id),
                txn_id=txn_id,
                envelope_json=envelope_json,
                commitment=commitment,
            )
        )

    def _check_id(self, conversation_id: str) -> None:
        if not looks_like_id(conversation_id, "c"):
            raise jobs.not_found()


def _decode_commitment(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != COMMITMENT_BYTES:
        raise InvalidRequest("franking_commitment must be 32 bytes of base64")
    return raw


def _info(row: Any, role: str, members: list[Member] | None = None) -> ConversationInfo:
    return ConversationInfo(
        conversation_id=row.id,
        kind=row.kind,
        title=row.title,
        created_at=row.created_at,
        last_seq=row.last_seq,
        member_count=row.member_count,
        my_role=role,
        members=members,
    )
