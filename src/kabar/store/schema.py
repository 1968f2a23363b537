"""The relational schema, as SQLAlchemy Core tables shared by SQLite and PostgreSQL.

Times are integer milliseconds since the epoch (portable and cheap to compare).
Stream positions (``pos``) come from the single ``stream_position`` row; see
``kabar.delivery.writer`` for how they are assigned. Alembic migrations under
``kabar/store/migrations`` create exactly these tables; a test checks they agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

ID = String(40)
# SQLite makes only "INTEGER PRIMARY KEY" the rowid: position-keyed tables must use it.
POSITION = BigInteger().with_variant(Integer(), "sqlite")

stream_position = Table(
    "stream_position",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("pos", BigInteger, nullable=False),
)

server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False, server_default="user"),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", BigInteger, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("curve25519", String(64)),
    Column("ed25519", String(64)),
    Column("identity_signature", String(128)),
)

one_time_keys = Table(
    "one_time_keys",
    metadata,
    Column("device_id", ID, primary_key=True),
    Column("key_id", String(64), primary_key=True),
    Column("key", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)

fallback_keys = Table(
    "fallback_keys",
    metadata,
    Column("device_id", ID, primary_key=True),
    Column("key_id", String(64), nullable=False),
    Column("key", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("used", Boolean, nullable=False, server_default=false()),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("title", String(200)),
    # "<account id>:<account id>" in sorted order for direct conversations: one per pair.
    Column("direct_key", String(100), unique=True),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("member_count", Integer, nullable=False),
)

# Current members only; history of who could see what lives in membership_periods.
members = Table(
    "members",
    metadata,
    Column("conversation_id", ID, primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("role", String(8), nullable=False),
    Column("joined_pos", BigInteger, nullable=False),
    Index(None, "account_id"),
)

# An account sees a conversation's events with joined_pos <= pos <= left_pos.
membership_periods = Table(
    "membership_periods",
    metadata,
    Column("conversation_id", ID, primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("joined_pos", BigInteger, primary_key=True, autoincrement=False),
    Column("left_pos", BigInteger),
    Index(None, "account_id", "conversation_id"),
)

# An account receives a feed's events with from_pos <= pos <= to_pos (live notifications of
# a followed public account; the subscription itself is public/'s business).
feed_periods = Table(
    "feed_periods",
    metadata,
    Column("feed_id", ID, primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("from_pos", BigInteger, primary_key=True, autoincrement=False),
    Column("to_pos", BigInteger),
    Index(None, "account_id", "feed_id"),
)

events = Table(
    "events",
    metadata,
    # The event id is this position encrypted under a server key (kabar.ids.EventIdCodec),
    # which saves an index on the hottest table.
    Column("pos", POSITION, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("conversation_id", ID),
    Column("seq", BigInteger),
    # For events addressed to one account rather than a conversation.
    Column("target_account", ID),
    # For events of a public account's feed, seen by accounts following it.
    Column("feed_id", ID),
    Column("sender_account", ID),
    Column("sender_device", ID),
    Column("txn_id", String(64)),
    Column("created_at", BigInteger, nullable=False),
    Column("content", Text, nullable=False),
    Column("franking_tag", String(64)),
    UniqueConstraint("conversation_id", "seq"),
    Index(
        "uq_events_sender_device_txn_id",
        "sender_device",
        "txn_id",
        unique=True,
        sqlite_where=text("txn_id IS NOT NULL"),
        postgresql_where=text("txn_id IS NOT NULL"),
    ),
    Index(
        "ix_events_feed_id_pos",
        "feed_id",
        "pos",
        sqlite_where=text("feed_id IS NOT NULL"),
        postgresql_where=text("feed_id IS NOT NULL"),
    ),
    Index(
        "ix_events_target_account_pos",
        "target_account",
        "pos",
        sqlite_where=text("target_account IS NOT NULL"),
        postgresql_where=text("target_account IS NOT NULL"),
    ),
)

to_device = Table(
    "to_device",
    metadata,
    Column("pos", POSITION, primary_key=True, autoincrement=False),
    Column("device_id", ID, nullable=False),
    Column("type", String(64), nullable=False),
    Column("sender_account", ID, nullable=False),
    Column("sender_device", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("content", Text, nullable=False),
    Index(None, "device_id", "pos"),
)

# Idempotency records for to-device sends (one request fans out to many rows).
to_device_txns = Table(
    "to_device_txns",
    metadata,
    Column("sender_device", ID, primary_key=True),
    Column("txn_id", String(64), primary_key=True),
    Column("pos", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# -- client storage (migration 0002): opaque blobs, key backups, verified reports -------------

# Encrypted attachments: the bytes live in the media directory under the random id; the
# server never learns what they are. Quotas sum ``size`` per uploader.
blobs = Table(
    "blobs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, nullable=False, index=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Key backup versions: ``data`` is the client's public version record (algorithm, salt,
# key check), stored verbatim. The highest version of an account is its current one.
backup_versions = Table(
    "backup_versions",
    metadata,
    Column("account_id", ID, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("data", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# One opaque blob per Megolm session in a backup version; ``first_known_index`` is the
# only thing the server reads, to keep the copy that decrypts the most.
backup_sessions = Table(
    "backup_sessions",
    metadata,
    Column("account_id", ID, primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("conversation_id", ID, primary_key=True),
    Column("session_id", String(128), primary_key=True),
    Column("first_known_index", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Franked reports the server verified (kabar.moderation.reports): the reporter revealed
# ``message`` (the canonical content M) and the MACs proved the sender sent exactly it.
message_reports = Table(
    "message_reports",
    metadata,
    Column("id", ID, primary_key=True),
    Column("reporter_account", ID, nullable=False),
    Column("reporter_device", ID, nullable=False),
    Column("event_pos", BigInteger, nullable=False, index=True),
    Column("conversation_id", ID, nullable=False),
    Column("sender_account", ID, nullable=False),
    Column("sender_device", ID, nullable=False),
    Column("message", Text, nullable=False),
    Column("reason", String(1000)),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("reporter_account", "event_pos"),
)


# -- public accounts, articles, subscriptions (docs/public-accounts.md) -----------------------

public_accounts = Table(
    "public_accounts",
    metadata,
    Column("id", ID, primary_key=True),
    # Folded to lower case (kabar.public.slugs.normalize_handle); never changes.
    Column("handle", String(30), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("bio", String(1000), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("avatar_url", String(200)),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Set only by an admin: who, when, and the evidence they relied on.
    Column("verified_at", BigInteger),
    Column("verified_by", ID),
    Column("verification_note", String(1000)),
    # Kept by the writer jobs that change them, so pages never count rows.
    Column("subscriber_count", BigInteger, nullable=False),
    Column("article_count", BigInteger, nullable=False),
    # Moderation (migration 0005), as for articles.
    Column("removed_at", BigInteger),
    Column("label", String(200)),
)

public_members = Table(
    "public_members",
    metadata,
    Column("public_account_id", ID, primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("role", String(8), nullable=False),
    Column("added_by", ID, nullable=False),
    Column("added_at", BigInteger, nullable=False),
    Index(None, "account_id"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("public_account_id", ID, nullable=False),
    Column("slug", String(80), nullable=False),
    # draft | scheduled | published | unpublished
    Column("status", String(12), nullable=False),
    # The current content: the working copy of a draft, else the latest (scheduled or
    # published) revision, rendered once when it was saved.
    Column("title", String(300), nullable=False),
    Column("markdown", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("summary", String(400), nullable=False),
    Column("word_count", Integer, nullable=False),
    Column("reading_minutes", Integer, nullable=False),
    Column("image", String(300)),
    # The latest revision that is (or, when scheduled, will be) public; 0 before the first.
    Column("revision", Integer, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("scheduled_at", BigInteger),
    # Who first published it (the byline) and when (the signed time of revision 1).
    Column("author_id", ID),
    Column("published_at", BigInteger),
    # The signed time of the latest revision after the first: the "edited" mark.
    Column("edited_at", BigInteger),
    # Stream position of the article.published event while published, else NULL: the
    # feed's sort key. Positions only grow, so a cursor below it is stable under
    # concurrent publishing.
    Column("feed_pos", BigInteger),
    Column("view_count", BigInteger, nullable=False),
    Column("comment_count", Integer, nullable=False),
    # Moderation (migration 0005): removed content is hidden everywhere, never deleted, so a
    # granted appeal restores it; a label is shown to readers with the content.
    Column("removed_at", BigInteger),
    Column("label", String(200)),
    UniqueConstraint("public_account_id", "slug"),
    Index(
        "uq_articles_feed_pos",
        "feed_pos",
        unique=True,
        sqlite_where=text("feed_pos IS NOT NULL"),
        postgresql_where=text("feed_pos IS NOT NULL"),
    ),
    Index(
        "ix_articles_public_account_id_feed_pos",
        "public_account_id",
        "feed_pos",
        sqlite_where=text("feed_pos IS NOT NULL"),
        postgresql_where=text("feed_pos IS NOT NULL"),
    ),
    Index(
        "ix_articles_scheduled_at",
        "scheduled_at",
        sqlite_where=text("status = 'scheduled'"),
        postgresql_where=text("status = 'scheduled'"),
    ),
)

# Every revision ever published or scheduled, with what its device signed
# (kabar.public.canonical): the public revision history.
article_revisions = Table(
    "article_revisions",
    metadata,
    Column("article_id", ID, primary_key=True),
    Column("revision", Integer, primary_key=True, autoincrement=False),
    Column("handle", String(30), nullable=False),
    Column("slug", String(80), nullable=False),
    Column("title", String(300), nullable=False),
    Column("markdown", Text, nullable=False),
    Column("published_at", BigInteger, nullable=False),
    Column("account_id", ID, nullable=False),
    # Signed as they were: a later rename or device removal cannot break verification.
    Column("username", String(32), nullable=False),
    Column("device_id", ID, nullable=False),
    Column("ed25519", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# One row per (day, article, viewer hash); only today's and yesterday's are kept.
article_views = Table(
    "article_views",
    metadata,
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("article_id", ID, primary_key=True),
    Column("viewer", String(64), primary_key=True),
)

# The daily-rotating HMAC keys of article_views; deleted with their day's rows, after
# which nobody can test an address against the stored hashes.
view_keys = Table(
    "view_keys",
    metadata,
    Column("day", Integer, primary_key=True, autoincrement=False),
    Column("secret", LargeBinary, nullable=False),
)

article_reactions = Table(
    "article_reactions",
    metadata,
    Column("article_id", ID, primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("reaction", String(16), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("article_id", ID, nullable=False),
    Column("account_id", ID, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Hidden by an owner or editor: shown as hidden, never deleted.
    Column("hidden_at", BigInteger),
    Column("hidden_by", ID),
    # Removed by a moderator (migration 0005): gone for everyone until an appeal restores it.
    Column("removed_at", BigInteger),
    Index(None, "article_id", "created_at"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("account_id", ID, primary_key=True),
    Column("public_account_id", ID, primary_key=True),
    # On ⇔ the account follows the feed channel (feed_periods): live article.published.
    Column("notifications", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "public_account_id"),
)

# Uploaded images, cleaned by kabar.media.images; files are named by content hash.
media = Table(
    "media",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, nullable=False),
    Column("name", String(80), nullable=False),
    Column("mime", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    # JSON list of {name, mime, width, height} (smaller variants, narrowest first).
    Column("variants", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Removed by a moderator or a hash list (migration 0005): no longer served.
    Column("removed_at", BigInteger),
    Index(None, "account_id"),
    Index(
        "ix_media_removed_at",
        "removed_at",
        sqlite_where=text("removed_at IS NOT NULL"),
        postgresql_where=text("removed_at IS NOT NULL"),
    ),
)

# What discovery searches: one document per public account and per published article.
# The text index itself is dialect-specific and lives outside this metadata (see
# kabar.store.search): an FTS5 table kept by triggers on SQLite, a GIN index over a
# tsvector expression on PostgreSQL.
search_documents = Table(
    "search_documents",
    metadata,
    Column("id", POSITION, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),
    Column("ref_id", ID, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("kind", "ref_id"),
)

# Tables of later features live in modules of their own, on the same metadata.
from kabar.store import schema_moderation, schema_transparency  # noqa: E402, F401
