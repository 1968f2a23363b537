"""The stored transparency log: appending entries inside a write, and reading proofs.

Every moderation action, appeal outcome and published authority request is
appended with :func:`append_entry` **inside the transaction that makes the
decision** (``tx.conn`` of a :class:`~kabar.delivery.transaction.WriteTx`), so a
decision and its log entry commit or roll back together::

    async def job(tx: WriteTx) -> ...:
        ...  # record the action
        entry = await ledger.append_entry(
            tx.conn,
            lambda seq: LogEntry(kind="action", seq=seq, time_ms=tx.now_ms, ...),
            origin=action_id,
        )

The leaf index comes from the ``transparency_state`` row, read ``FOR UPDATE``:
on PostgreSQL the row lock orders the appends of all nodes (the writer's own
``stream_position`` lock already serialises batches, this keeps the log safe
even if that changes); SQLite has a single writer connection. Each append
stores the entry's canonical JSON and leaf hash, the subtree nodes it
completes (see ``transparency/frontier.py``) and the new frontier; it never
signs — heads are signed lazily when the log is read
(:mod:`kabar.moderation.transparency_service`).

The read helpers take any connection (a reader's snapshot, or a write
transaction) and a tree size no larger than the stored log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.entries import LogEntry
from kabar.moderation.transparency.frontier import Frontier
from kabar.moderation.transparency.storage import plan_consistency, plan_inclusion
from kabar.store import transparency as store
from kabar.store.threaded import Executor


async def append_entry(
    conn: Executor, make: Callable[[int], LogEntry], *, origin: str | None = None
) -> LogEntry:
    """Append the entry ``make(seq)`` builds for the next leaf index ``seq``; return it.

    Runs inside the caller's write transaction. ``origin`` is an internal id
    (case action, appeal, authority request) kept beside the leaf, never
    published; it lets services find the entry they logged.
    """
    size, hashes = await store.load_state(conn, lock=True)
    frontier = Frontier(size, hashes)
    entry = make(size)
    if not isinstance(entry, LogEntry) or entry.seq != size:
        raise InvalidRequest(f"a log entry appended at {size} must have seq {size}")
    leaf_bytes = entry.leaf_bytes()
    leaf = entry.leaf_hash()
    await store.insert_leaf(
        conn,
        seq=size,
        entry=leaf_bytes.decode(),
        leaf_hash=leaf,
        kind=entry.kind,
        action=entry.action,
        policy_item=entry.policy_item,
        source=entry.source,
        automated=entry.automated,
        time_ms=entry.time_ms,
        origin=origin,
    )
    await store.insert_nodes(conn, frontier.append(leaf))
    await store.save_state(conn, frontier.size, frontier.hashes, entry.time_ms)
    return entry


async def tree_size(conn: Executor) -> int:
    size, _ = await store.load_state(conn)
    return size


async def root_at(conn: Executor, size: int) -> bytes:
    """``MTH(D[size])`` from the stored frontier nodes of that size: O(log n)."""
    ids = Frontier.node_ids(size)
    nodes = await store.read_nodes(conn, ids)
    missing = [node for node in ids if node not in nodes]
    if missing:
        raise InvalidRequest(f"the stored log has no tree of size {size}")
    return Frontier(size, [nodes[node] for node in ids]).root()


async def inclusion_proof(conn: Executor, index: int, size: int) -> list[bytes]:
    """``PATH(index, D[size])`` from O(log n) stored nodes."""
    plan = plan_inclusion(index, size)
    return plan.assemble(await store.read_nodes(conn, plan.node_ids()))


async def inclusion_proofs(conn: Executor, indexes: Sequence[int], size: int) -> list[list[bytes]]:
    """The inclusion proofs of several leaves in one tree, from one batch of node reads."""
    plans = [plan_inclusion(index, size) for index in indexes]
    wanted = sorted({node for plan in plans for node in plan.node_ids()})
    nodes = await store.read_nodes(conn, wanted)
    return [plan.assemble(nodes) for plan in plans]


async def consistency_proof(conn: Executor, size1: int, size2: int) -> list[bytes]:
    """``PROOF(size1, D[size2])`` from O(log n) stored nodes."""
    plan = plan_consistency(size1, size2)
    return plan.assemble(await store.read_nodes(conn, plan.node_ids()))
