"""Tables of the transparency log, the authority-requests register and the hash lists.

Declared on the shared :data:`kabar.store.schema.metadata` (this module is
imported at the bottom of ``schema.py``); migration 0004 creates them.

The log (``kabar.moderation.ledger``) keeps

* ``transparency_state``: one row (id 1) with the tree size and the frontier
  hashes, concatenated (32 bytes each, ``Frontier.node_ids(size)`` order). The
  appender locks it, which serialises appends across nodes on PostgreSQL;
* ``transparency_leaves``: one row per entry, keyed by its leaf index ``seq``,
  with the canonical entry JSON (exactly the leaf bytes) and its leaf hash. The
  other columns copy fields of the entry for aggregate queries; ``origin`` is an
  internal id (case action, appeal, authority request) that is never published;
* ``transparency_nodes``: every perfect subtree hash :meth:`Frontier.append`
  completes, level 0 being the leaf hashes, so proofs read O(log n) rows;
* ``transparency_heads``: signed tree heads, made lazily on first read of each
  tree size and cached so every node serves the same head for a size.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    true,
)

from kabar.store.schema import ID, POSITION, metadata

transparency_state = Table(
    "transparency_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

transparency_leaves = Table(
    "transparency_leaves",
    metadata,
    Column("seq", POSITION, primary_key=True, autoincrement=False),
    Column("entry", Text, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("action", String(32), nullable=False),
    Column("policy_item", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("automated", Boolean, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("origin", String(64)),
    Index(None, "time_ms"),
    Index(None, "origin"),
)

transparency_nodes = Table(
    "transparency_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

transparency_heads = Table(
    "transparency_heads",
    metadata,
    Column("log_id", String(64), primary_key=True),
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("signature", LargeBinary, nullable=False),
)

# The register of requests from governments and police (kabar.moderation.authority).
# ``targets`` is a JSON list of {"type", "ref"} as the admin gave them (private
# targets by account/event id; the log gets hashed refs). ``publish_after`` is set
# when the request is decided: the entry is appended to the log once it has passed.
authority_requests = Table(
    "authority_requests",
    metadata,
    Column("id", ID, primary_key=True),
    Column("requester", String(500), nullable=False),
    Column("jurisdiction", String(100), nullable=False),
    Column("legal_basis", String(500), nullable=False),
    Column("request", Text, nullable=False),
    Column("targets", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("publish_delay_days", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("decision", String(32)),
    Column("policy_item", String(64)),
    Column("summary", Text),
    Column("actions_taken", Text),
    Column("decided_at", BigInteger),
    Column("decided_by", ID),
    Column("publish_after", BigInteger),
    Column("log_seq", BigInteger),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "status", "publish_after"),
)

# Imported hash lists (kabar.moderation.hashlists_service). One row per list name;
# each entry carries the action of the CSV row that listed it.
hash_lists = Table(
    "hash_lists",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("action", String(16), nullable=False),
    Column("entries", BigInteger, nullable=False, server_default="0"),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("imported_by", ID),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

hash_entries = Table(
    "hash_entries",
    metadata,
    Column("list_id", ID, primary_key=True),
    Column("type", String(8), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("action", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "type", "value"),
)

# Every match of a public upload against a list, as handed to the HashMatchSink.
upload_matches = Table(
    "upload_matches",
    metadata,
    Column("id", ID, primary_key=True),
    Column("media_id", ID, nullable=False),
    Column("account_id", ID, nullable=False),
    Column("handle", String(30)),
    Column("list_id", ID, nullable=False),
    Column("list_name", String(100), nullable=False),
    Column("action", String(16), nullable=False),
    Column("hash_type", String(8), nullable=False),
    Column("distance", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "media_id"),
    Index(None, "created_at"),
)
