"""The group-commit writer: the only code path that writes to the database while serving.

Requests validate their input, then enqueue a *job*. One writer task per node
takes every job waiting (up to ``writer_max_batch``; while others are sending, after
letting the event loop turn until no more arrive), runs them all in **one
transaction**, assigns stream positions and per-conversation ``seq`` numbers in
queue order, commits, and only then resolves each job's future and publishes the
batch to the broker. One fsync is shared by the whole batch — the main lever
for throughput — and order comes for free.

Invariants kept here (DESIGN §3):

1. *Total order.* Positions come from the ``stream_position`` row, read with
   ``FOR UPDATE`` on PostgreSQL (its row lock serialises batches of all nodes
   until commit, so position order is commit order) and under ``BEGIN
   IMMEDIATE`` on SQLite (one writer connection). Positions of a batch are
   contiguous, and a rolled-back job gives its positions back, so committed
   positions have no gaps: the hub reads a gap as "a broker message was lost".
2. *Gapless seq* per conversation, allocated from ``conversations.last_seq``
   inside the same transaction.
3. *Idempotent sends.* ``(sender_device, txn_id)`` is unique; a resend finds the
   original event and stores nothing.
4. *Durable acks.* Futures resolve after COMMIT returns; a failed batch fails
   every job in it with 503, and clients retry with the same ``txn_id``.

Two kinds of jobs: message sends take a bulk fast path (``delivery/sends.py``: a
few set-based statements for the whole run of consecutive sends); any other write
is a generic job — an async function of a :class:`~kabar.delivery.transaction.WriteTx`
— run inside a SAVEPOINT so that its failure rolls back only itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from kabar import metrics
from kabar.broker import Broker
from kabar.config import StreamConfig
from kabar.delivery import events as ev
from kabar.delivery.deadlines import CommitDeadlines
from kabar.delivery.sends import MessageRun, MessageSend, SentMessage
from kabar.delivery.transaction import WriteTx
from kabar.errors import KabarError, Unavailable
from kabar.ids import EventIdCodec
from kabar.store import batch as batch_store
from kabar.store import events as store
from kabar.store.database import Database
from kabar.store.threaded import ThreadedConnection, WouldWait

log = logging.getLogger(__name__)
T = TypeVar("T")

STREAM_CHANNEL = "stream"
GATHER_TURNS = 4
"""At most this many turns of the event loop to gather a batch (:meth:`Writer._gather`)."""
# labels() takes a lock and builds a key: once, not on every batch.
_EVENTS_COMMITTED = metrics.EVENTS_COMMITTED.labels("event")
_TO_DEVICE_COMMITTED = metrics.EVENTS_COMMITTED.labels("to_device")


@dataclass(slots=True)
class _Job:
    future: asyncio.Future[Any]
    message: MessageSend | None = None
    fn: Callable[[WriteTx], Awaitable[Any]] | None = None


_Outcome = tuple[_Job, Any, BaseException | None]


def _run_callbacks(tx: WriteTx) -> None:
    """The jobs' :meth:`~WriteTx.after_commit` callbacks, each on its own."""
    for callback in tx.callbacks:
        try:
            callback()
        except Exception:
            log.exception("after-commit callback failed")


class Writer:
    """Owns the writer connection and the job queue."""

    def __init__(
        self,
        database: Database,
        broker: Broker,
        codec: EventIdCodec,
        franking_secret: bytes,
        config: StreamConfig,
    ) -> None:
        self._db = database
        self._broker = broker
        self.codec = codec
        self._sends_run = MessageRun(codec, franking_secret)
        self._config = config
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=config.writer_queue_max)
        self._task: asyncio.Task[None] | None = None
        self._conn: ThreadedConnection | AsyncConnection | None = None
        self.committed_pos = 0
        self._listeners: list[Callable[[ev.StreamBatch], None]] = []
        self._deadlines = CommitDeadlines(config.commit_timeout_seconds)

    def on_commit(self, listener: Callable[[ev.StreamBatch], None]) -> None:
        """Also hand every committed batch to ``listener`` (the local hub), before publishing
        it to the other nodes, and after its jobs' callers have had a turn to answer."""
        self._listeners.append(listener)

    async def start(self) -> None:
        async with self._db.read() as conn:
            self.committed_pos = await store.read_position(conn)
        self._task = asyncio.create_task(self._loop(), name="kabar-writer")
        # Read when scraped: a gauge set on every write cost a lock per send.
        metrics.WRITER_QUEUE.set_function(self._queue.qsize)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._deadlines.close()
        await self._close_connection()

    async def run(self, fn: Callable[[WriteTx], Awaitable[T]]) -> T:
        """Run ``fn`` in the next batch; return its result once committed."""
        result: T = await self._submit(_Job(future=self._future(), fn=fn))
        return result

    async def send_message(self, message: MessageSend) -> SentMessage:
        result: SentMessage = await self._submit(_Job(future=self._future(), message=message))
        return result

    def _future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, job: _Job) -> Any:
        if self._task is None or self._task.done():
            raise Unavailable("the writer is not running")
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise Unavailable("the server is saturated; retry shortly", retry_after=1) from None
        # Not wait_for(shield(...)): that is two more tasks or futures per write. A job
        # that commits after its deadline is simply not answered.
        self._deadlines.watch(job.future)
        return await job.future

    async def _loop(self) -> None:
        concurrent = False
        while True:
            first = await self._queue.get()
            if concurrent:
                await self._gather()
            batch = [first]
            while len(batch) < self._config.writer_max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._execute(batch)
            concurrent = len(batch) > 1

    async def _gather(self) -> None:
        """Let the event loop turn while that brings more jobs, up to :data:`GATHER_TURNS`.

        Requests the loop has already read, and tasks already woken, reach the queue only
        when they run; starting the batch before they do splits one burst into several
        batches, each paying for its own statements, COMMIT and thread hand-offs. Only
        after a batch of several jobs (others are sending): a lone sender gains nothing
        by waiting. Measured: 20 concurrent senders, batches 6.6 → 8.5 jobs, server CPU
        per send −13 %, sends/s +22 % (docs/performance-history.md, run 10)."""
        for _ in range(GATHER_TURNS):
            waiting = self._queue.qsize()
            await asyncio.sleep(0)
            if self._queue.qsize() == waiting:
                return

    async def _connection(self) -> ThreadedConnection | AsyncConnection:
        if self._conn is None or self._conn.closed:
            self._conn = await self._db.connect_writer()
        return self._conn

    async def _close_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _execute(self, batch: list[_Job]) -> None:
        started = time.perf_counter()
        try:
            conn = await self._connection()
            if all(job.message is not None for job in batch):
                tx, outcomes = await self._run_message_batch(conn, batch)
            else:
                tx, outcomes = await self._mixed_batch(conn, batch)
        except Exception as exc:
            metrics.WRITE_FAILURES.inc()
            log.exception("write batch of %d jobs rolled back", len(batch))
            await self._close_connection()
            failure = Unavailable("storage is unavailable; retry with the same txn_id")
            failure.__cause__ = exc  # keeps the storage failure in the log
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(failure)
            return
        took = time.perf_counter() - started
        # Caches and revocations first: once a caller has its answer, what it changed holds
        # (a signed-out token fails at once on this node).
        _run_callbacks(tx)
        if tx.pos != tx.start_pos:
            self.committed_pos = tx.pos
        for job, result, error in outcomes:
            if job.future.done():
                continue
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)
        try:
            # One turn of the event loop lets the answered requests respond before the
            # fan-out: handed to the hub first, the answers queued behind every live
            # listener's wake-up (a publish to 10,000 online subscribers was answered after
            # 1.8 s, now 40 ms; deliveries as fast as before; docs/performance.md).
            await asyncio.sleep(0)
        finally:
            self._publish(tx)
            metrics.WRITE_BATCH_SIZE.observe(len(batch))
            metrics.WRITE_BATCH_SECONDS.observe(took)

    async def _run_message_batch(
        self, conn: ThreadedConnection | AsyncConnection, batch: list[_Job]
    ) -> tuple[WriteTx, list[_Outcome]]:
        """The hot path: a batch of sends, commit included, in one call."""
        if isinstance(conn, ThreadedConnection):
            # SQLite: the whole batch here, COMMIT included while commits are quick
            # (store/threaded.py says why) — unless another process holds the lock.
            with contextlib.suppress(WouldWait):
                return await conn.run_here(self._message_statements, conn, batch)
        return await conn.run_sync(self._message_batch, conn, batch)

    def _message_batch(
        self, sync: Connection, conn: ThreadedConnection | AsyncConnection, batch: list[_Job]
    ) -> tuple[WriteTx, list[_Outcome]]:
        with sync.begin():
            return self._message_statements(sync, conn, batch)

    def _message_statements(
        self, sync: Connection, conn: ThreadedConnection | AsyncConnection, batch: list[_Job]
    ) -> tuple[WriteTx, list[_Outcome]]:
        start = batch_store.read_position(sync, lock=not self._db.is_sqlite)
        tx = WriteTx(self.codec, conn, start, int(time.time() * 1000))
        outcomes = self._sends(sync, tx, batch)
        batch_store.save_last_seqs(sync, {c: tx.seqs[c] for c in tx.dirty_seqs})
        if tx.pos != start:
            batch_store.write_position(sync, tx.pos)
        return tx, outcomes

    async def _mixed_batch(
        self, conn: ThreadedConnection | AsyncConnection, batch: list[_Job]
    ) -> tuple[WriteTx, list[_Outcome]]:
        if isinstance(conn, ThreadedConnection) and conn.commits_quickly:
            # SQLite: every statement on the event loop, as for sends (store/threaded.py),
            # unless another process holds the lock: then, nothing having run, the thread.
            with contextlib.suppress(WouldWait):
                async with conn.here():
                    return await self._generic_batch(conn, batch)
        return await self._generic_batch(conn, batch)

    async def _generic_batch(
        self, conn: ThreadedConnection | AsyncConnection, batch: list[_Job]
    ) -> tuple[WriteTx, list[_Outcome]]:
        outcomes: list[_Outcome] = []
        async with conn.begin():
            start = await store.read_position(conn, lock=not self._db.is_sqlite)
            tx = WriteTx(self.codec, conn, start, int(time.time() * 1000))
            index = 0
            while index < len(batch):
                if batch[index].message is not None:
                    end = index
                    while end < len(batch) and batch[end].message is not None:
                        end += 1
                    outcomes += await conn.run_sync(self._sends, tx, batch[index:end])
                    index = end
                else:
                    outcomes.append(await self._apply_job(tx, batch[index]))
                    index += 1
            await store.save_last_seqs(conn, {c: tx.seqs[c] for c in tx.dirty_seqs})
            if tx.pos != start:
                await store.write_position(conn, tx.pos)
        return tx, outcomes

    def _publish(self, tx: WriteTx) -> None:
        """Hand a committed batch's events to the local hub and the other nodes."""
        if tx.pos == tx.start_pos:
            return
        batch_out = ev.StreamBatch(first=tx.start_pos + 1, last=tx.pos, items=tx.dispatches)
        for listener in self._listeners:
            try:
                listener(batch_out)
            except Exception:
                log.exception("commit listener failed")
        if self._broker.distributed:
            self._broker.publish(STREAM_CHANNEL, batch_out.encode())
        n_to_device = sum(1 for d in tx.dispatches if d.to_device)
        if n_to_device < len(tx.dispatches):
            _EVENTS_COMMITTED.inc(len(tx.dispatches) - n_to_device)
        if n_to_device:
            _TO_DEVICE_COMMITTED.inc(n_to_device)

    async def _apply_job(self, tx: WriteTx, job: _Job) -> _Outcome:
        assert job.fn is not None
        mark = tx.checkpoint()
        try:
            async with tx.conn.begin_nested():
                result = await job.fn(tx)
                await tx.flush()
        except KabarError as exc:
            tx.restore(mark)
            return job, None, exc
        except Exception as exc:
            tx.restore(mark)
            log.exception("write job failed")
            return job, None, exc
        return job, result, None

    def _sends(self, sync: Connection, tx: WriteTx, jobs: list[_Job]) -> list[_Outcome]:
        """Store a run of consecutive send jobs (:class:`MessageRun`), each with its outcome."""
        sends = [job.message for job in jobs if job.message is not None]
        assert len(sends) == len(jobs)
        return [
            (job, None, result) if isinstance(result, KabarError) else (job, result, None)
            for job, result in zip(jobs, self._sends_run.store(sync, tx, sends), strict=True)
        ]
