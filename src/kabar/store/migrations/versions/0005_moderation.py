"""Moderation: cases, reports, notes, actions, notices, appeals, audit; removal and labels.

Revision ID: 0005
Revises: 0004

Adds ``removed_at`` (articles, comments, public_accounts, media) and ``label`` (articles,
public_accounts): nullable columns, so SQLite adds them in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=40)
OPEN = "status = 'open'"
REMOVED = "removed_at IS NOT NULL"


def upgrade() -> None:
    for table in ("articles", "comments", "public_accounts", "media"):
        op.add_column(table, sa.Column("removed_at", sa.BigInteger(), nullable=True))
    for table in ("articles", "public_accounts"):
        op.add_column(table, sa.Column("label", sa.String(length=200), nullable=True))
    op.create_index(
        "ix_media_removed_at",
        "media",
        ["removed_at"],
        sqlite_where=sa.text(REMOVED),
        postgresql_where=sa.text(REMOVED),
    )
    op.create_table(
        "mod_cases",
        sa.Column("id", ID, nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("owner_account", ID, nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("policy_item", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("assignee", ID, nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_cases")),
    )
    op.create_index(
        "uq_mod_cases_open_target",
        "mod_cases",
        ["target_type", "target_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        op.f("ix_mod_cases_status_severity_created_at"),
        "mod_cases",
        ["status", "severity", "created_at"],
    )
    op.create_table(
        "mod_reports",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("reporter_account", ID, nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("policy_item", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_reports")),
    )
    op.create_index(op.f("ix_mod_reports_case_id"), "mod_reports", ["case_id"])
    op.create_table(
        "mod_notes",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("author", ID, nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_notes")),
    )
    op.create_index(op.f("ix_mod_notes_case_id"), "mod_notes", ["case_id"])
    op.create_table(
        "mod_actions",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", ID, nullable=True),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("policy_item", sa.String(length=64), nullable=False),
        sa.Column("rationale", sa.String(length=4000), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("moderator", ID, nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.Column("escalated_from", ID, nullable=True),
        sa.Column("reversed_at", sa.BigInteger(), nullable=True),
        sa.Column("log_seq", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_actions")),
    )
    op.create_index(op.f("ix_mod_actions_case_id"), "mod_actions", ["case_id"])
    op.create_index(op.f("ix_mod_actions_account_id"), "mod_actions", ["account_id"])
    op.create_table(
        "mod_notices",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("action_id", ID, nullable=False),
        sa.Column("target_label", sa.String(length=300), nullable=False),
        sa.Column("target_url", sa.String(length=400), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_notices")),
        sa.UniqueConstraint("action_id", name=op.f("uq_mod_notices_action_id")),
    )
    op.create_index(op.f("ix_mod_notices_account_id"), "mod_notices", ["account_id"])
    op.create_table(
        "mod_appeals",
        sa.Column("id", ID, nullable=False),
        sa.Column("action_id", ID, nullable=False),
        sa.Column("notice_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("statement", sa.String(length=4000), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("rationale", sa.String(length=4000), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("log_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_appeals")),
        sa.UniqueConstraint("action_id", name=op.f("uq_mod_appeals_action_id")),
    )
    op.create_index(
        op.f("ix_mod_appeals_status_created_at"), "mod_appeals", ["status", "created_at"]
    )
    op.create_table(
        "mod_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("actor", ID, nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_audit")),
    )


def downgrade() -> None:
    op.drop_table("mod_audit")
    op.drop_index(op.f("ix_mod_appeals_status_created_at"), table_name="mod_appeals")
    op.drop_table("mod_appeals")
    op.drop_index(op.f("ix_mod_notices_account_id"), table_name="mod_notices")
    op.drop_table("mod_notices")
    op.drop_index(op.f("ix_mod_actions_account_id"), table_name="mod_actions")
    op.drop_index(op.f("ix_mod_actions_case_id"), table_name="mod_actions")
    op.drop_table("mod_actions")
    op.drop_index(op.f("ix_mod_notes_case_id"), table_name="mod_notes")
    op.drop_table("mod_notes")
    op.drop_index(op.f("ix_mod_reports_case_id"), table_name="mod_reports")
    op.drop_table("mod_reports")
    op.drop_index(
        "uq_mod_cases_open_target",
        table_name="mod_cases",
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.drop_index(op.f("ix_mod_cases_status_severity_created_at"), table_name="mod_cases")
    op.drop_table("mod_cases")
    op.drop_index(
        "ix_media_removed_at",
        table_name="media",
        sqlite_where=sa.text(REMOVED),
        postgresql_where=sa.text(REMOVED),
    )
    # SQLite drops columns by rebuilding the table; batch mode does that (and the FTS
    # triggers live on search_documents, which is not rebuilt).
    for table in ("articles", "public_accounts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("label")
    for table in ("articles", "comments", "public_accounts", "media"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("removed_at")
