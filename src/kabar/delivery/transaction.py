"""What a write job sees: the batch's open transaction and its allocators.

The writer (``delivery/writer.py``) runs every job of a batch against one
:class:`WriteTx`. It hands out the batch's stream positions and per-conversation
``seq`` numbers in queue order, collects the rows a job appends (written by
:meth:`WriteTx.flush`) and what renders each event's client frame, once and only
when first needed, for the hub to splice into every sync response and WebSocket
frame that carries it. A job that fails is rolled back to its
:meth:`WriteTx.checkpoint`, allocators included, so committed positions and seqs
stay gapless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kabar.delivery import events as ev
from kabar.ids import EventIdCodec
from kabar.store import events as store
from kabar.store.threaded import ThreadedConnection

Checkpoint = tuple[int, dict[str, int], set[str], int, int]
"""Where a job started: position, seqs, dirty seqs, dispatch and callback counts."""


@dataclass(frozen=True, slots=True)
class Sender:
    """Who makes a write: the account, its username (for frames) and the device."""

    account_id: str
    username: str
    device_id: str


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    """An event as the batch stored it: its id, position, ``seq``, time and franking tag."""

    event_id: str
    pos: int
    seq: int | None
    ts: int
    franking_tag: str | None = None


class WriteTx:
    """What a job sees: the open transaction and the batch's allocators."""

    def __init__(
        self,
        codec: EventIdCodec,
        conn: ThreadedConnection | AsyncConnection,
        start_pos: int,
        now_ms: int,
    ) -> None:
        self.conn = conn
        self.now_ms = now_ms
        self.codec = codec
        self.start_pos = start_pos
        self.pos = start_pos
        self.seqs: dict[str, int] = {}
        self.dirty_seqs: set[str] = set()
        self.dispatches: list[ev.Dispatch] = []
        self.callbacks: list[Callable[[], None]] = []
        self.event_rows: list[dict[str, Any]] = []
        self.to_device_rows: list[dict[str, Any]] = []

    def next_pos(self) -> int:
        self.pos += 1
        return self.pos

    async def next_seq(self, conversation_id: str) -> int:
        if conversation_id not in self.seqs:
            loaded = await store.load_last_seqs(self.conn, [conversation_id])
            self.seqs[conversation_id] = loaded.get(conversation_id, 0)
        return self.bump_seq(conversation_id)

    def bump_seq(self, conversation_id: str) -> int:
        """The conversation's next ``seq``, its last one already loaded (the sends' fast
        path reads them for a whole run at once)."""
        self.seqs[conversation_id] += 1
        self.dirty_seqs.add(conversation_id)
        return self.seqs[conversation_id]

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the batch has committed (never if it rolls back)."""
        self.callbacks.append(callback)

    async def append_event(
        self,
        type: str,
        content: dict[str, Any] | str,
        *,
        conversation_id: str | None = None,
        target_account: str | None = None,
        feed_id: str | None = None,
        sender: Sender | None = None,
        joins: tuple[str, ...] = (),
        leaves: tuple[str, ...] = (),
        follows: tuple[str, ...] = (),
        unfollows: tuple[str, ...] = (),
    ) -> AppendedEvent:
        """Add one event to the stream (written when the job's rows are flushed)."""
        seq = await self.next_seq(conversation_id) if conversation_id else None
        content_json = content if isinstance(content, str) else ev.dumps(content)
        return self.record(
            type,
            content_json,
            conversation_id=conversation_id,
            seq=seq,
            target_account=target_account,
            feed_id=feed_id,
            sender=sender,
            dispatch=ev.Dispatch(
                pos=0,
                conversation_id=conversation_id,
                target_account=target_account,
                feed_id=feed_id,
                joins=joins,
                leaves=leaves,
                follows=follows,
                unfollows=unfollows,
            ),
        )

    def record(
        self,
        type: str,
        content_json: str,
        *,
        conversation_id: str | None,
        seq: int | None,
        sender: Sender | None,
        dispatch: ev.Dispatch,
        target_account: str | None = None,
        feed_id: str | None = None,
        txn_id: str | None = None,
        franking_tag: str | None = None,
        event_id: str | None = None,
    ) -> AppendedEvent:
        """The one place an event gets its position, its stored row and its client frame
        (rendered when first read).

        ``event_id`` is the id of the next position, when the caller already needed it
        (a franking tag binds it); otherwise it is encoded here.
        """
        pos = self.next_pos()
        if event_id is None:
            event_id = self.codec.encode(pos)
        self.event_rows.append(
            {
                "pos": pos,
                "type": type,
                "conversation_id": conversation_id,
                "seq": seq,
                "target_account": target_account,
                "feed_id": feed_id,
                "sender_account": sender.account_id if sender else None,
                "sender_device": sender.device_id if sender else None,
                "txn_id": txn_id,
                "created_at": self.now_ms,
                "content": content_json,
                "franking_tag": franking_tag,
            }
        )
        dispatch.pos = pos
        # Rendered when a listener or the broker first reads it (ev.Dispatch).
        dispatch.render_with(
            partial(
                ev.event_frame,
                event_id=event_id,
                type=type,
                conversation_id=conversation_id,
                seq=seq,
                feed_id=feed_id,
                sender=sender.username if sender else None,
                sender_id=sender.account_id if sender else None,
                sender_device=sender.device_id if sender else None,
                txn_id=txn_id,
                ts=self.now_ms,
                content_json=content_json,
                franking_tag=franking_tag,
            )
        )
        self.dispatches.append(dispatch)
        return AppendedEvent(
            event_id=event_id, pos=pos, seq=seq, ts=self.now_ms, franking_tag=franking_tag
        )

    def append_to_device(self, device_id: str, type: str, sender: Sender, content_json: str) -> int:
        pos = self.next_pos()
        self.to_device_rows.append(
            {
                "pos": pos,
                "device_id": device_id,
                "type": type,
                "sender_account": sender.account_id,
                "sender_device": sender.device_id,
                "created_at": self.now_ms,
                "content": content_json,
            }
        )
        render = partial(
            ev.to_device_frame,
            type=type,
            sender=sender.username,
            sender_id=sender.account_id,
            sender_device=sender.device_id,
            ts=self.now_ms,
            content_json=content_json,
        )
        self.dispatches.append(
            ev.Dispatch(pos=pos, render=render, to_device=True, device_id=device_id)
        )
        return pos

    async def flush(self) -> None:
        """Write the rows appended so far (called after each job, inside its savepoint)."""
        await store.insert_events(self.conn, self.event_rows)
        await store.insert_to_device(self.conn, self.to_device_rows)
        self.event_rows = []
        self.to_device_rows = []

    def checkpoint(self) -> Checkpoint:
        """Where the next job starts; the writer restores it if that job fails."""
        return (
            self.pos,
            dict(self.seqs),
            set(self.dirty_seqs),
            len(self.dispatches),
            len(self.callbacks),
        )

    def restore(self, mark: Checkpoint) -> None:
        """Forget everything allocated and appended since ``mark`` (the job's rows are
        discarded with its savepoint)."""
        self.pos, self.seqs, self.dirty_seqs, n_dispatch, n_callbacks = mark
        del self.dispatches[n_dispatch:]
        del self.callbacks[n_callbacks:]
        self.event_rows = []
        self.to_device_rows = []
