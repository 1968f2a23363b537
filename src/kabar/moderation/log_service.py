"""The public face of the transparency log: signed heads, pages with proofs, consistency.

Entries are appended by the services that decide things (``ledger.append_entry``
inside their write). This service reads the log for ``/transparency/…``:

* **Signed heads, lazily.** Appending never signs. The first read of the log
  at a new tree size signs its root (with the key in ``transparency.key_file``,
  created on first use) and stores the head through the writer; later reads of
  that size, on any node, serve the stored head. A head is therefore made only
  for sizes someone looked at, and one size always has one head.
* **Publishers.** Some entries become due over time (authority requests with a
  publication delay). Callables registered with :meth:`add_publisher` run
  before every read, so what is due is logged before anyone sees the log.
* **Private references.** :meth:`private_ref` turns an account or event id into
  the keyed hash the log shows instead (``entries.hashed_ref``), with the
  server's secret ``log_refs`` salt.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from kabar.config import TransparencyConfig
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import InvalidRequest
from kabar.moderation import ledger
from kabar.moderation.transparency.encoding import b64encode
from kabar.moderation.transparency.entries import LogEntry, hashed_ref
from kabar.moderation.transparency.sth import LogPublicKey, LogSigningKey, SignedTreeHead, TreeHead
from kabar.store import transparency as store
from kabar.store.database import Database
from kabar.store.rows import Record

log = logging.getLogger(__name__)

Publisher = Callable[[], Awaitable[None]]
HEADS_CACHED = 1024


@dataclass(frozen=True, slots=True)
class ServedEntry:
    """One entry as the log serves it, with its inclusion proof against ``head``.

    ``entry`` is the stored JSON exactly (its canonical form is the leaf), not a
    re-serialisation, so the log shows what it holds even if that were damaged.
    """

    index: int
    entry: dict[str, Any]
    leaf_hash: bytes
    inclusion_proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class LogPage:
    head: SignedTreeHead
    entries: tuple[ServedEntry, ...]
    next: int | None


def load_or_create_key(path: Path) -> LogSigningKey:
    """The key at ``path``; a new one saved there if there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            LogSigningKey.generate().save(path)
            log.info("created the transparency log key %s: back it up", path)
        except FileExistsError:
            pass  # another process created it first: use theirs
    return LogSigningKey.load(path)


class TransparencyService:
    def __init__(
        self, database: Database, writer: Writer, config: TransparencyConfig, ref_salt: bytes
    ) -> None:
        self._db = database
        self._writer = writer
        self._config = config
        self._salt = ref_salt
        self._key: LogSigningKey | None = None
        self._heads: dict[int, SignedTreeHead] = {}
        self._publishers: list[Publisher] = []

    @property
    def signing_key(self) -> LogSigningKey:
        if self._key is None:
            self._key = load_or_create_key(Path(self._config.key_file))
        return self._key

    @property
    def public_key(self) -> LogPublicKey:
        return self.signing_key.public_key

    @property
    def page_max(self) -> int:
        return self._config.page_max

    def private_ref(self, private_id: str) -> str:
        """How the log names a private account or chat message (by id, never username)."""
        return hashed_ref(private_id, self._salt)

    def add_publisher(self, publisher: Publisher) -> None:
        self._publishers.append(publisher)

    async def publish_due(self) -> None:
        for publisher in self._publishers:
            await publisher()

    async def head(self) -> SignedTreeHead:
        """The signed head of the log as it is now (signed now if this size is new)."""
        await self.publish_due()
        async with self._db.read() as conn:
            size = await ledger.tree_size(conn)
        return await self.head_at(size)

    async def head_at(self, size: int) -> SignedTreeHead:
        """The signed head for ``size`` (at most the current size)."""
        cached = self._heads.get(size)
        if cached is not None:
            return cached
        key = self.signing_key
        log_id = key.public_key.log_id
        async with self._db.read() as conn:
            row = await store.head(conn, log_id, size)
            if row is None:
                if size > await ledger.tree_size(conn):
                    raise InvalidRequest(f"the log has fewer than {size} entries")
                root = await ledger.root_at(conn, size)
        if row is None:
            sth = key.sign(size, root, int(time.time() * 1000))
            try:
                sth = await self._writer.run(lambda tx: _store_head(tx, sth))
            except IntegrityError:
                # Another node stored a head for this size between our read and write.
                async with self._db.read() as conn:
                    row = await store.head(conn, log_id, size)
                assert row is not None
                sth = _head_of(row)
        else:
            sth = _head_of(row)
        if len(self._heads) >= HEADS_CACHED:
            self._heads.clear()  # old sizes are rarely asked for again; the table keeps them
        self._heads[size] = sth
        return sth

    async def page(self, start: int, limit: int) -> LogPage:
        """Entries ``[start, start + limit)`` of the current head, each with its proof."""
        if start < 0 or limit < 1:
            raise InvalidRequest("start must be 0 or more and limit 1 or more")
        head = await self.head()
        size = head.head.tree_size
        end = min(size, start + min(limit, self.page_max))
        served: list[ServedEntry] = []
        async with self._db.read() as conn:
            rows = await store.leaves(conn, start, end) if start < end else []
            proofs = await ledger.inclusion_proofs(conn, [r.seq for r in rows], size)
        for row, proof in zip(rows, proofs, strict=True):
            served.append(
                ServedEntry(row.seq, json.loads(row.entry), bytes(row.leaf_hash), tuple(proof))
            )
        return LogPage(head, tuple(served), end if end < size else None)

    async def consistency(self, first: int, second: int | None = None) -> tuple[int, list[bytes]]:
        """``(second, PROOF(first, D[second]))``; ``second`` defaults to the current size."""
        if second is None:
            second = (await self.head()).head.tree_size
        async with self._db.read() as conn:
            size = await ledger.tree_size(conn)
            if not 0 <= first <= second <= size:
                raise InvalidRequest(
                    f"no consistency proof from {first} to {second}: the log has {size} entries"
                )
            return second, await ledger.consistency_proof(conn, first, second)

    async def entries_between(self, start_ms: int, end_ms: int) -> list[LogEntry]:
        """Every entry logged in ``[start_ms, end_ms)``, in log order (after publishing)."""
        await self.publish_due()
        async with self._db.read() as conn:
            return [_entry_of(r) for r in await store.leaves_between(conn, start_ms, end_ms)]

    async def span(self) -> tuple[int, int] | None:
        """The times of the first and the last entry, or None for an empty log."""
        await self.publish_due()
        async with self._db.read() as conn:
            return await store.months(conn)


async def _store_head(tx: WriteTx, sth: SignedTreeHead) -> SignedTreeHead:
    head = sth.head
    existing = await store.head(tx.conn, head.log_id, head.tree_size)
    if existing is not None:
        return _head_of(existing)
    await store.insert_head(
        tx.conn,
        log_id=head.log_id,
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        timestamp_ms=head.timestamp_ms,
        signature=sth.signature,
    )
    return sth


def _head_of(row: Record) -> SignedTreeHead:
    head = TreeHead(row.tree_size, bytes(row.root_hash), row.timestamp_ms, row.log_id)
    return SignedTreeHead(head, bytes(row.signature))


def _entry_of(row: Record) -> LogEntry:
    return LogEntry.from_json(json.loads(row.entry))


def served_json(entries: Sequence[ServedEntry]) -> list[dict[str, Any]]:
    """Entries as ``GET /transparency/log`` lists them."""
    return [
        {
            "index": e.index,
            "entry": e.entry,
            "leaf_hash": b64encode(e.leaf_hash),
            "inclusion_proof": [b64encode(h) for h in e.inclusion_proof],
        }
        for e in entries
    ]
