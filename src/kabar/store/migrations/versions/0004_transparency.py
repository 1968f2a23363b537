"""Transparency log, authority-requests register, hash lists and upload matches.

Revision ID: 0004
Revises: 0003

Tables are declared in kabar.store.schema_transparency. The log's state row (id 1,
an empty tree) is created here so that appending only ever updates it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ID = sa.String(length=40)


def upgrade() -> None:
    state = op.create_table(
        "transparency_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transparency_state")),
    )
    assert state is not None
    op.bulk_insert(state, [{"id": 1, "size": 0, "frontier": b"", "updated_at": 0}])
    op.create_table(
        "transparency_leaves",
        sa.Column("seq", POSITION, autoincrement=False, nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("policy_item", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_transparency_leaves")),
    )
    op.create_index(
        op.f("ix_transparency_leaves_time_ms"), "transparency_leaves", ["time_ms"], unique=False
    )
    op.create_index(
        op.f("ix_transparency_leaves_origin"), "transparency_leaves", ["origin"], unique=False
    )
    op.create_table(
        "transparency_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_transparency_nodes")),
    )
    op.create_table(
        "transparency_heads",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "tree_size", name=op.f("pk_transparency_heads")),
    )
    op.create_table(
        "authority_requests",
        sa.Column("id", ID, nullable=False),
        sa.Column("requester", sa.String(length=500), nullable=False),
        sa.Column("jurisdiction", sa.String(length=100), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("publish_delay_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=True),
        sa.Column("policy_item", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("actions_taken", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("publish_after", sa.BigInteger(), nullable=True),
        sa.Column("log_seq", sa.BigInteger(), nullable=True),
        sa.Column("created_by", ID, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_requests")),
    )
    op.create_index(
        op.f("ix_authority_requests_status_publish_after"),
        "authority_requests",
        ["status", "publish_after"],
        unique=False,
    )
    op.create_table(
        "hash_lists",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entries", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("imported_by", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_hash_lists_name")),
    )
    op.create_table(
        "hash_entries",
        sa.Column("list_id", ID, nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("list_id", "type", "value", name=op.f("pk_hash_entries")),
    )
    op.create_index(
        op.f("ix_hash_entries_type_value"), "hash_entries", ["type", "value"], unique=False
    )
    op.create_table(
        "upload_matches",
        sa.Column("id", ID, nullable=False),
        sa.Column("media_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("handle", sa.String(length=30), nullable=True),
        sa.Column("list_id", ID, nullable=False),
        sa.Column("list_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("hash_type", sa.String(length=8), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_matches")),
    )
    op.create_index(
        op.f("ix_upload_matches_media_id"), "upload_matches", ["media_id"], unique=False
    )
    op.create_index(
        op.f("ix_upload_matches_created_at"), "upload_matches", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_upload_matches_created_at"), table_name="upload_matches")
    op.drop_index(op.f("ix_upload_matches_media_id"), table_name="upload_matches")
    op.drop_table("upload_matches")
    op.drop_index(op.f("ix_hash_entries_type_value"), table_name="hash_entries")
    op.drop_table("hash_entries")
    op.drop_table("hash_lists")
    op.drop_index(
        op.f("ix_authority_requests_status_publish_after"), table_name="authority_requests"
    )
    op.drop_table("authority_requests")
    op.drop_table("transparency_heads")
    op.drop_table("transparency_nodes")
    op.drop_index(op.f("ix_transparency_leaves_origin"), table_name="transparency_leaves")
    op.drop_index(op.f("ix_transparency_leaves_time_ms"), table_name="transparency_leaves")
    op.drop_table("transparency_leaves")
    op.drop_table("transparency_state")
