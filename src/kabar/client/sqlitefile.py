"""SQLite plumbing of the local device store: the connection and batched transactions.

Every write of the store goes through :meth:`Transactions.write`. Alone, each
call commits on its own; inside :meth:`Transactions.batch` they all commit
together, which is how the SDK saves a whole sync page — ratchet steps, the
replay log, decrypted messages and the new sync token — with one fsync, and
all or nothing (a crash replays the page; it never skips half of it).
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
    def batch(self) -> Iterator[None]:
        self._depth += 1
        if self._depth == 1:
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
