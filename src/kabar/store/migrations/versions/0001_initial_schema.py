"""Initial schema: accounts, devices, keys, conversations, the event stream.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="user", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("direct_key", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("direct_key", name=op.f("uq_conversations_direct_key")),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.Column("curve25519", sa.String(length=64), nullable=True),
        sa.Column("ed25519", sa.String(length=64), nullable=True),
        sa.Column("identity_signature", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_devices_token_hash")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_account_id"), ["account_id"], unique=False)

    op.create_table(
        "events",
        sa.Column(
            "pos",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("target_account", sa.String(length=40), nullable=True),
        sa.Column("feed_id", sa.String(length=40), nullable=True),
        sa.Column("sender_account", sa.String(length=40), nullable=True),
        sa.Column("sender_device", sa.String(length=40), nullable=True),
        sa.Column("txn_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("franking_tag", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_events")),
        sa.UniqueConstraint("conversation_id", "seq", name=op.f("uq_events_conversation_id_seq")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_feed_id_pos",
            ["feed_id", "pos"],
            unique=False,
            sqlite_where=sa.text("feed_id IS NOT NULL"),
            postgresql_where=sa.text("feed_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_events_target_account_pos",
            ["target_account", "pos"],
            unique=False,
            sqlite_where=sa.text("target_account IS NOT NULL"),
            postgresql_where=sa.text("target_account IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_events_sender_device_txn_id",
            ["sender_device", "txn_id"],
            unique=True,
            sqlite_where=sa.text("txn_id IS NOT NULL"),
            postgresql_where=sa.text("txn_id IS NOT NULL"),
        )

    op.create_table(
        "feed_periods",
        sa.Column("feed_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("from_pos", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("to_pos", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("feed_id", "account_id", "from_pos", name=op.f("pk_feed_periods")),
    )
    with op.batch_alter_table("feed_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_periods_account_id_feed_id"),
            ["account_id", "feed_id"],
            unique=False,
        )

    op.create_table(
        "fallback_keys",
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("used", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_fallback_keys")),
    )
    op.create_table(
        "members",
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("joined_pos", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "account_id", name=op.f("pk_members")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_account_id"), ["account_id"], unique=False)

    op.create_table(
        "membership_periods",
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("joined_pos", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("left_pos", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "conversation_id", "account_id", "joined_pos", name=op.f("pk_membership_periods")
        ),
    )
    with op.batch_alter_table("membership_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_periods_account_id_conversation_id"),
            ["account_id", "conversation_id"],
            unique=False,
        )

    op.create_table(
        "one_time_keys",
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "key_id", name=op.f("pk_one_time_keys")),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    op.create_table(
        "stream_position",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pos", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_position")),
    )
    op.bulk_insert(
        sa.table(
            "stream_position", sa.column("id", sa.Integer()), sa.column("pos", sa.BigInteger())
        ),
        [{"id": 1, "pos": 0}],
    )
    op.create_table(
        "to_device",
        sa.Column(
            "pos",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("sender_account", sa.String(length=40), nullable=False),
        sa.Column("sender_device", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_to_device")),
    )
    with op.batch_alter_table("to_device", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_to_device_device_id_pos"), ["device_id", "pos"], unique=False
        )

    op.create_table(
        "to_device_txns",
        sa.Column("sender_device", sa.String(length=40), nullable=False),
        sa.Column("txn_id", sa.String(length=64), nullable=False),
        sa.Column("pos", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sender_device", "txn_id", name=op.f("pk_to_device_txns")),
    )


def downgrade() -> None:
    op.drop_table("to_device_txns")
    with op.batch_alter_table("to_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_to_device_device_id_pos"))

    op.drop_table("to_device")
    op.drop_table("stream_position")
    op.drop_table("server_secrets")
    op.drop_table("one_time_keys")
    with op.batch_alter_table("membership_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_periods_account_id_conversation_id"))

    op.drop_table("membership_periods")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_account_id"))

    op.drop_table("members")
    op.drop_table("fallback_keys")
    with op.batch_alter_table("feed_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_periods_account_id_feed_id"))

    op.drop_table("feed_periods")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_events_sender_device_txn_id",
            sqlite_where=sa.text("txn_id IS NOT NULL"),
            postgresql_where=sa.text("txn_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_events_target_account_pos",
            sqlite_where=sa.text("target_account IS NOT NULL"),
            postgresql_where=sa.text("target_account IS NOT NULL"),
        )

    op.drop_table("events")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_account_id"))

    op.drop_table("devices")
    op.drop_table("conversations")
    op.drop_table("accounts")
