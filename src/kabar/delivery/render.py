"""Turn stored rows back into the dispatches the writer would have published.

Used where events come from the store rather than from a commit on this node:
sync reads, conversation history, and the hub filling a position gap.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Row

from kabar.delivery import events as ev
from kabar.ids import EventIdCodec
from kabar.store.names import UsernameCache


def event_dispatch(row: Row[Any], codec: EventIdCodec, names: UsernameCache) -> ev.Dispatch:
    frame = ev.event_frame(
        event_id=codec.encode(row.pos),
        type=row.type,
        conversation_id=row.conversation_id,
        seq=row.seq,
        feed_id=row.feed_id,
        sender=names.known(row.sender_account) if row.sender_account else None,
        sender_id=row.sender_account,
        sender_device=row.sender_device,
        txn_id=row.txn_id,
        ts=row.created_at,
        content_json=row.content,
        franking_tag=row.franking_tag,
    )
    joins, leaves = membership_changes(row.type, row.content)
    follows, unfollows = follow_changes(row.type, row.content)
    return ev.Dispatch(
        pos=row.pos,
        frame=frame,
        conversation_id=row.conversation_id,
        target_account=row.target_account,
        feed_id=row.feed_id,
        joins=joins,
        leaves=leaves,
        follows=follows,
        unfollows=unfollows,
    )


def to_device_dispatch(row: Row[Any], names: UsernameCache) -> ev.Dispatch:
    frame = ev.to_device_frame(
        type=row.type,
        sender=names.known(row.sender_account),
        sender_id=row.sender_account,
        sender_device=row.sender_device,
        ts=row.created_at,
        content_json=row.content,
    )
    return ev.Dispatch(pos=row.pos, frame=frame, to_device=True, device_id=row.device_id)


def membership_changes(type: str, content_json: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which accounts an event of ``type`` adds to or removes from its conversation."""
    if type == ev.CONVERSATION_CREATED:
        content = json.loads(content_json)
        return tuple(m["account_id"] for m in content.get("members", ())), ()
    if type == ev.MEMBER_JOINED:
        return (json.loads(content_json)["account_id"],), ()
    if type in (ev.MEMBER_LEFT, ev.MEMBER_REMOVED):
        return (), (json.loads(content_json)["account_id"],)
    return (), ()


def follow_changes(type: str, content_json: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which feeds an account-targeted event of ``type`` starts or stops following."""
    if type == ev.FEED_FOLLOWED:
        return (json.loads(content_json)["feed_id"],), ()
    if type == ev.FEED_UNFOLLOWED:
        return (), (json.loads(content_json)["feed_id"],)
    return (), ()


def sender_ids(rows: list[Row[Any]]) -> set[str]:
    return {row.sender_account for row in rows if row.sender_account}
