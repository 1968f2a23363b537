"""SQLite plumbing of the local device store: the connection and batched transactions.

Every write of the store goes through :meth:`Transactions.write`. Alone, each
call commits on its own; inside :meth:`Transactions.batch` they all commit
together, which is how the SDK saves a whole sync page — ratchet steps, the
replay log, decrypted messages and the new sync token — with one fsync, and
all or nothing (a crash replays the page; it never skips half of it).

A batch may be marked not ``durable``: it commits with ``synchronous=NORMAL``,
which in WAL mode survives a crash of the process but not of the machine, and
costs no fsync. That is right only for what the server can give us again —
a page of conversation events with its sync token, our own sent message's
history entry — and never for a ratchet step, a consumed one-time key or a
to-device message the server deletes once we acknowledge it. The next durable
commit makes every earlier one durable too (WAL order).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    db = sqlite3.connect(
        Path(path).absolute().as_uri() + "?mode=rw",
        uri=True,
        check_same_thread=False,
        isolation_level=None,  # transactions are begun explicitly below
    )
    db.execute("PRAGMA journal_mode = WAL")
    # A lost ratchet step means undecryptable messages: make every commit durable.
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA secure_delete = ON")
    return db


class Transactions:
    """Explicit transactions on one connection, with batching across calls."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._depth = 0

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction — or a part of the enclosing batch."""
        if self._depth:
            yield self.db
            return
        with self.batch():
            yield self.db

    @contextmanager
    def batch(self, *, durable: bool = True) -> Iterator[None]:
        self._depth += 1
        if self._depth == 1:
            self.db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.db.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self.db.execute("COMMIT")


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
