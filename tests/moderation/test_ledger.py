"""The stored log: appends inside write jobs, leaf indexes, and proofs from stored nodes."""

from __future__ import annotations

import asyncio

import pytest

from kabar.delivery.transaction import WriteTx
from kabar.errors import InvalidRequest
from kabar.moderation import ledger
from kabar.moderation.transparency.entries import LogEntry
from kabar.moderation.transparency.merkle import root, verify_consistency, verify_inclusion
from kabar.store.schema_transparency import transparency_leaves
from support.server import RunningServer
from support.transparency import action_entry, append_actions


async def _leaf_hashes(server: RunningServer) -> list[bytes]:
    async with server.services.database.read() as conn:
        rows = await conn.execute(transparency_leaves.select().order_by(transparency_leaves.c.seq))
        return [bytes(r.leaf_hash) for r in rows]


async def test_appends_get_consecutive_seqs_and_proofs_verify(server: RunningServer) -> None:
    services = server.services
    entries: list[LogEntry] = []
    for count in (1, 3, 1, 5, 3):
        entries += await append_actions(services, count)
    assert [e.seq for e in entries] == list(range(13))
    hashes = await _leaf_hashes(server)
    assert hashes == [e.leaf_hash() for e in entries]

    async with services.database.read() as conn:
        assert await ledger.tree_size(conn) == 13
        for size in range(1, 14):
            tree_root = await ledger.root_at(conn, size)
            assert tree_root == root(hashes[:size])
            for index in range(size):
                proof = await ledger.inclusion_proof(conn, index, size)
                assert verify_inclusion(hashes[index], index, size, proof, tree_root)
        for m in range(1, 14):
            for n in range(m, 14):
                proof = await ledger.consistency_proof(conn, m, n)
                assert verify_consistency(m, n, root(hashes[:m]), root(hashes[:n]), proof)


async def test_concurrent_jobs_share_one_log_without_gaps(server: RunningServer) -> None:
    services = server.services
    batches = await asyncio.gather(*(append_actions(services, 2) for _ in range(8)))
    seqs = sorted(e.seq for batch in batches for e in batch)
    assert seqs == list(range(16))
    assert len(await _leaf_hashes(server)) == 16


async def test_a_failed_job_gives_its_leaf_index_back(server: RunningServer) -> None:
    services = server.services
    maker = action_entry()

    async def failing(tx: WriteTx) -> None:
        await ledger.append_entry(tx.conn, maker(tx))
        raise InvalidRequest("the decision failed after logging")

    await append_actions(services, 1)
    with pytest.raises(InvalidRequest):
        await services.writer.run(failing)
    [entry] = await append_actions(services, 1)
    assert entry.seq == 1
    async with services.database.read() as conn:
        assert await ledger.tree_size(conn) == 2


async def test_an_entry_with_the_wrong_seq_is_refused(server: RunningServer) -> None:
    maker = action_entry()

    async def job(tx: WriteTx) -> None:
        await ledger.append_entry(tx.conn, lambda seq: maker(tx)(seq + 1))

    with pytest.raises(InvalidRequest):
        await server.services.writer.run(job)
