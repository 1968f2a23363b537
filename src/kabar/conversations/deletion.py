"""Deleting a message for everyone: the sender, or a group's admins, leave a tombstone.

The server cannot read a message, so "delete" means: append a ``message.deleted``
event that every client honours (it removes its decrypted copy), and redact the
stored envelope so the ciphertext is gone from the server too. The franking
commitment stays, so a report made before the deletion can still be verified.
"""

from __future__ import annotations

import json

from kabar.accounts.models import Principal
from kabar.conversations.membership import not_found, require_member
from kabar.conversations.roles import RANK, MemberRole
from kabar.delivery import events as ev
from kabar.delivery.transaction import Sender, WriteTx
from kabar.errors import ErrorCode, Forbidden
from kabar.store import conversations as conv_store
from kabar.store import events as store

MESSAGE_DELETED = "message.deleted"


async def delete_message(
    tx: WriteTx, actor: Principal, conversation_id: str, event_id: str
) -> None:
    role = await require_member(tx, conversation_id, actor.account_id)
    position = tx.codec.decode(event_id)
    if position is None:
        raise not_found()
    row = await store.event_at(tx.conn, position)
    if row is None or row.conversation_id != conversation_id or row.type != ev.MESSAGE:
        raise not_found()
    if json.loads(row.content).get("redacted"):
        return  # deleted already: deleting again changes nothing
    conversation = await conv_store.conversation(tx.conn, conversation_id)
    own = row.sender_account == actor.account_id
    moderating = conversation is not None and conversation.kind == "group"
    moderating = moderating and RANK[role] >= RANK[MemberRole.ADMIN]
    if not own and not moderating:
        raise Forbidden(
            "only the sender, or a group's admins, delete a message for everyone",
            code=ErrorCode.INSUFFICIENT_ROLE,
        )
    envelope = json.loads(row.content)
    tombstone = {"redacted": True}
    if "franking_commitment" in envelope:
        tombstone["franking_commitment"] = envelope["franking_commitment"]
    await store.replace_content(tx.conn, position, ev.dumps(tombstone))
    await tx.append_event(
        MESSAGE_DELETED,
        {"event_id": event_id, "by": actor.username, "as": "sender" if own else "admin"},
        conversation_id=conversation_id,
        sender=Sender(actor.account_id, actor.username, actor.device_id),
    )
