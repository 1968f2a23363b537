"""The device's decrypted message history, its full-text index, and undecrypted events.

Part of the local store (``kabar.client.store`` owns the file and the keys).
Every row is sealed with the store's data key, bound to its table and event id;
only what lookups need stays in the clear: event and conversation ids, times,
and for undecrypted events the Megolm session they wait for.

**The search index is plaintext** — see the note in ``kabar.client.store``: a
*contentless* FTS5 table (snippets are cut from the decrypted row), on the
user's own disk only.

**Undecrypted events** are messages this device could not decrypt yet (their
key has not arrived) or never will (a bad ciphertext, a franking mismatch …).
They are kept with their reason so the user sees them in order, and so the SDK
can retry the waiting ones as soon as their session key arrives — also after
a restart.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any

from kabar.client.crypto.encoding import b64decode, b64encode
from kabar.client.sqlitefile import Transactions, dumps
from kabar.client.vault import Vault

HISTORY_SCHEMA_V2 = """
CREATE TABLE undecrypted (
    event_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, session_key TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL, sealed BLOB NOT NULL)
"""
UNDECRYPTED_INDEX = "CREATE INDEX undecrypted_by_session ON undecrypted (session_key)"
HISTORY_SCHEMA = (
    """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, conversation_id TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL, sealed BLOB NOT NULL);
CREATE INDEX messages_by_conversation ON messages (conversation_id, timestamp_ms, id);
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content='', tokenize='unicode61 remove_diacritics 2');
"""
    + HISTORY_SCHEMA_V2
    + ";"
    + UNDECRYPTED_INDEX
)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One decrypted message as this device keeps it (``message``/``franking_key`` for reports)."""

    conversation_id: str
    event_id: str
    sender: str
    timestamp_ms: int
    content: dict[str, Any]
    message: bytes = b""
    franking_key: bytes = b""
    sender_device: str = ""


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: str
    event_id: str
    snippet: str


class MessageLog:
    def __init__(self, tx: Transactions, vault: Vault) -> None:
        self._tx = tx
        self._db = tx.db
        self._vault = vault

    # -- decrypted messages -------------------------------------------------------

    def add(self, entry: HistoryEntry) -> bool:
        """Keep a decrypted message; False if this event is already stored."""
        record = dataclasses.asdict(entry)
        record["message"] = b64encode(entry.message)
        record["franking_key"] = b64encode(entry.franking_key)
        with self._tx.write():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO messages (event_id, conversation_id, timestamp_ms, sealed)"
                " VALUES (?, ?, ?, ?)",
                (
                    entry.event_id,
                    entry.conversation_id,
                    entry.timestamp_ms,
                    self._vault.seal("messages", entry.event_id, dumps(record)),
                ),
            )
            if cursor.rowcount == 0:
                return False
            self._db.execute(
                "INSERT INTO messages_fts (rowid, body) VALUES (?, ?)",
                (cursor.lastrowid, _searchable(entry.content)),
            )
        return True

    def get(self, event_id: str) -> HistoryEntry | None:
        row = self._db.execute(
            "SELECT sealed FROM messages WHERE event_id = ?", (event_id,)
        ).fetchone()
        return self._entry(event_id, row[0]) if row else None

    def has(self, event_id: str) -> bool:
        query = "SELECT 1 FROM messages WHERE event_id = ? UNION ALL "
        query += "SELECT 1 FROM undecrypted WHERE event_id = ?"
        return self._db.execute(query, (event_id, event_id)).fetchone() is not None

    def history(self, conversation_id: str, limit: int = 50) -> list[HistoryEntry]:
        """The newest ``limit`` messages of a conversation, oldest first."""
        rows = self._db.execute(
            "SELECT event_id, sealed FROM messages WHERE conversation_id = ?"
            " ORDER BY timestamp_ms DESC, id DESC LIMIT ?",
            (conversation_id, limit),
        ).fetchall()
        return [self._entry(event_id, sealed) for event_id, sealed in reversed(rows)]

    def event_ids(self, prefix: str, limit: int = 10) -> list[str]:
        """Stored event ids (decrypted or not) starting with ``prefix``, for short references."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._db.execute(
            "SELECT event_id FROM messages WHERE event_id LIKE ? ESCAPE '\\' UNION "
            "SELECT event_id FROM undecrypted WHERE event_id LIKE ? ESCAPE '\\' LIMIT ?",
            (pattern, pattern, limit),
        ).fetchall()
        return sorted(r[0] for r in rows)

    def delete(self, event_id: str) -> bool:
        """Forget a message (e.g. deleted for everyone), including its index terms."""
        row = self._db.execute(
            "SELECT id, sealed FROM messages WHERE event_id = ?", (event_id,)
        ).fetchone()
        if row is None:
            return False
        body = _searchable(self._entry(event_id, row[1]).content)
        with self._tx.write():
            # A contentless FTS5 table forgets a row only when given its original text.
            self._db.execute(
                "INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', ?, ?)",
                (row[0], body),
            )
            self._db.execute("DELETE FROM messages WHERE id = ?", (row[0],))
        return True

    def search(self, words: str, limit: int = 20) -> list[SearchHit]:
        """Messages containing every word (prefix match), best first."""
        # Quote each word so FTS5 syntax in the input is taken literally.
        terms = [t.replace('"', "") for t in words.split() if any(c.isalnum() for c in t)]
        if not terms:
            return []
        query = " ".join(f'"{t}"*' for t in terms)
        rows = self._db.execute(
            "SELECT m.event_id, m.conversation_id, m.sealed FROM messages_fts f"
            " JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ?"
            " ORDER BY f.rank LIMIT ?",
            (query, limit),
        ).fetchall()
        return [
            SearchHit(
                conv, event_id, _snippet(_searchable(self._entry(event_id, sealed).content), terms)
            )
            for event_id, conv, sealed in rows
        ]

    # -- undecrypted events -------------------------------------------------------

    def add_undecrypted(
        self,
        event_id: str,
        conversation_id: str,
        session_key: str,
        timestamp_ms: int,
        record: dict[str, Any],
    ) -> None:
        """Keep (or update) an event that did not decrypt; ``session_key`` is what it waits for."""
        with self._tx.write():
            self._db.execute(
                "INSERT OR REPLACE INTO undecrypted VALUES (?, ?, ?, ?, ?)",
                (
                    event_id,
                    conversation_id,
                    session_key,
                    timestamp_ms,
                    self._vault.seal("undecrypted", event_id, dumps(record)),
                ),
            )

    def undecrypted(
        self, *, conversation_id: str | None = None, session_key: str | None = None
    ) -> list[dict[str, Any]]:
        """Undecrypted records, oldest first, of one conversation or waiting for one session."""
        query, args = "SELECT event_id, sealed FROM undecrypted", tuple[str, ...]()
        if conversation_id is not None:
            query, args = query + " WHERE conversation_id = ?", (conversation_id,)
        elif session_key is not None:
            query, args = query + " WHERE session_key = ?", (session_key,)
        rows = self._db.execute(query + " ORDER BY timestamp_ms, event_id", args).fetchall()
        return [json.loads(self._vault.open("undecrypted", e, sealed)) for e, sealed in rows]

    def remove_undecrypted(self, event_id: str) -> None:
        with self._tx.write():
            self._db.execute("DELETE FROM undecrypted WHERE event_id = ?", (event_id,))

    def _entry(self, event_id: str, sealed: bytes) -> HistoryEntry:
        record = json.loads(self._vault.open("messages", event_id, sealed))
        record["message"] = b64decode(record["message"])
        record["franking_key"] = b64decode(record["franking_key"])
        return HistoryEntry(**record)


def _searchable(content: dict[str, Any]) -> str:
    """The text the index sees: the body and attachment names."""
    parts = [content["body"]] if isinstance(content.get("body"), str) else []
    attachments = content.get("attachments")
    for item in attachments if isinstance(attachments, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            parts.append(item["name"])
    return "\n".join(parts)


def _snippet(text: str, terms: list[str], radius: int = 40) -> str:
    match = re.search("|".join(re.escape(t) for t in terms), text, re.IGNORECASE)
    start = max(0, (match.start() if match else 0) - radius)
    end = min(len(text), (match.end() if match else 0) + radius)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
