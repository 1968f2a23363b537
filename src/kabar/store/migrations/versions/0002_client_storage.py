"""Client storage: encrypted attachment blobs, key backups, verified franked reports.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blobs")),
    )
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blobs_account_id"), ["account_id"], unique=False)

    op.create_table(
        "backup_versions",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "version", name=op.f("pk_backup_versions")),
    )
    op.create_table(
        "backup_sessions",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("first_known_index", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id",
            "version",
            "conversation_id",
            "session_id",
            name=op.f("pk_backup_sessions"),
        ),
    )
    op.create_table(
        "message_reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("reporter_account", sa.String(length=40), nullable=False),
        sa.Column("reporter_device", sa.String(length=40), nullable=False),
        sa.Column("event_pos", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=False),
        sa.Column("sender_account", sa.String(length=40), nullable=False),
        sa.Column("sender_device", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_reports")),
        sa.UniqueConstraint(
            "reporter_account",
            "event_pos",
            name=op.f("uq_message_reports_reporter_account_event_pos"),
        ),
    )
    with op.batch_alter_table("message_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_reports_event_pos"), ["event_pos"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_reports_event_pos"))
    op.drop_table("message_reports")
    op.drop_table("backup_sessions")
    op.drop_table("backup_versions")
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blobs_account_id"))
    op.drop_table("blobs")
