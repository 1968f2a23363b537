"""Public accounts, articles, revisions, views, reactions, comments, subscriptions, media, search.

Revision ID: 0003
Revises: 0002

Besides the declared tables (kabar.store.schema), this creates the text-search index, which
differs per dialect and is not part of the declared metadata:

* SQLite: an FTS5 table ``search_fts`` over ``search_documents`` (external content, rowid =
  ``search_documents.id``), kept in step by three triggers. A later migration that rebuilds
  ``search_documents`` in batch mode must recreate the triggers.
* PostgreSQL: a GIN index over the weighted tsvector expression that
  ``kabar.store.search`` queries (the expression must stay identical to use the index).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)
# Must match kabar.store.search.PG_DOCUMENT exactly.
POSTGRES_SEARCH = (
    "CREATE INDEX ix_search_documents_fts ON search_documents USING gin ("
    "(setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'B')))",
)


def upgrade() -> None:
    op.create_table(
        "article_reactions",
        sa.Column("article_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("reaction", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "article_id", "account_id", "reaction", name=op.f("pk_article_reactions")
        ),
    )
    op.create_table(
        "article_revisions",
        sa.Column("article_id", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("handle", sa.String(length=30), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("published_at", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("ed25519", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "revision", name=op.f("pk_article_revisions")),
    )
    op.create_table(
        "article_views",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.String(length=40), nullable=False),
        sa.Column("viewer", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", "article_id", "viewer", name=op.f("pk_article_views")),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("public_account_id", sa.String(length=40), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("reading_minutes", sa.Integer(), nullable=False),
        sa.Column("image", sa.String(length=300), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("scheduled_at", sa.BigInteger(), nullable=True),
        sa.Column("author_id", sa.String(length=40), nullable=True),
        sa.Column("published_at", sa.BigInteger(), nullable=True),
        sa.Column("edited_at", sa.BigInteger(), nullable=True),
        sa.Column("feed_pos", sa.BigInteger(), nullable=True),
        sa.Column("view_count", sa.BigInteger(), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint(
            "public_account_id", "slug", name=op.f("uq_articles_public_account_id_slug")
        ),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_articles_public_account_id_feed_pos",
            ["public_account_id", "feed_pos"],
            unique=False,
            sqlite_where=sa.text("feed_pos IS NOT NULL"),
            postgresql_where=sa.text("feed_pos IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_articles_scheduled_at",
            ["scheduled_at"],
            unique=False,
            sqlite_where=sa.text("status = 'scheduled'"),
            postgresql_where=sa.text("status = 'scheduled'"),
        )
        batch_op.create_index(
            "uq_articles_feed_pos",
            ["feed_pos"],
            unique=True,
            sqlite_where=sa.text("feed_pos IS NOT NULL"),
            postgresql_where=sa.text("feed_pos IS NOT NULL"),
        )

    op.create_table(
        "comments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("article_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("hidden_at", sa.BigInteger(), nullable=True),
        sa.Column("hidden_by", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comments_article_id_created_at"),
            ["article_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "media",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("variants", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_account_id"), ["account_id"], unique=False)

    op.create_table(
        "public_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("handle", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("bio", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("avatar_url", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("verified_at", sa.BigInteger(), nullable=True),
        sa.Column("verified_by", sa.String(length=40), nullable=True),
        sa.Column("verification_note", sa.String(length=1000), nullable=True),
        sa.Column("subscriber_count", sa.BigInteger(), nullable=False),
        sa.Column("article_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_accounts")),
        sa.UniqueConstraint("handle", name=op.f("uq_public_accounts_handle")),
    )
    op.create_table(
        "public_members",
        sa.Column("public_account_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("added_by", sa.String(length=40), nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("public_account_id", "account_id", name=op.f("pk_public_members")),
    )
    with op.batch_alter_table("public_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_public_members_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "search_documents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_search_documents_kind_ref_id")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("public_account_id", sa.String(length=40), nullable=False),
        sa.Column("notifications", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "public_account_id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriptions_public_account_id"), ["public_account_id"], unique=False
        )

    op.create_table(
        "view_keys",
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_view_keys")),
    )
    statements = SQLITE_SEARCH if op.get_bind().dialect.name == "sqlite" else POSTGRES_SEARCH
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_documents_fts")
    op.drop_table("view_keys")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_public_account_id"))

    op.drop_table("subscriptions")
    op.drop_table("search_documents")
    with op.batch_alter_table("public_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_public_members_account_id"))

    op.drop_table("public_members")
    op.drop_table("public_accounts")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_account_id"))

    op.drop_table("media")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_article_id_created_at"))

    op.drop_table("comments")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_articles_feed_pos",
            sqlite_where=sa.text("feed_pos IS NOT NULL"),
            postgresql_where=sa.text("feed_pos IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_articles_scheduled_at",
            sqlite_where=sa.text("status = 'scheduled'"),
            postgresql_where=sa.text("status = 'scheduled'"),
        )
        batch_op.drop_index(
            "ix_articles_public_account_id_feed_pos",
            sqlite_where=sa.text("feed_pos IS NOT NULL"),
            postgresql_where=sa.text("feed_pos IS NOT NULL"),
        )

    op.drop_table("articles")
    op.drop_table("article_views")
    op.drop_table("article_revisions")
    op.drop_table("article_reactions")
