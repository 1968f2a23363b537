"""Moderation tables: cases, reports, notes, actions, notices, appeals and the audit log.

Declared on the shared ``metadata`` of :mod:`kabar.store.schema` (which imports
this module at its end); migration 0005 creates them. Content itself is never
copied here except as the *snapshot* a case keeps of what was reported, so a
moderator sees the content as reported even if it is later edited or removed.
Removed content stays in its own table, marked with ``removed_at``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text, text

from kabar.store.schema import ID, POSITION, metadata

TARGET_ID = String(64)
POLICY_ITEM = String(64)

# One case per target while it is open (the partial unique index); a closed case stays as
# history and a new report opens a new one.
mod_cases = Table(
    "mod_cases",
    metadata,
    Column("id", ID, primary_key=True),
    Column("target_type", String(16), nullable=False),
    Column("target_id", TARGET_ID, nullable=False),
    # The account affected by an action on the target (author, owner, sender, itself).
    Column("owner_account", ID),
    Column("snapshot", Text, nullable=False),
    # The most severe item reported so far, and its severity: the queue's first sort key.
    Column("policy_item", POLICY_ITEM, nullable=False),
    Column("severity", Integer, nullable=False),
    Column("source", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("assignee", ID),
    Column("report_count", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger),
    Index(
        "uq_mod_cases_open_target",
        "target_type",
        "target_id",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
    Index(None, "status", "severity", "created_at"),
)

mod_reports = Table(
    "mod_reports",
    metadata,
    Column("id", ID, primary_key=True),
    Column("case_id", ID, nullable=False, index=True),
    # NULL for detections (hash matches). Never shown to the reported party.
    Column("reporter_account", ID),
    Column("source", String(16), nullable=False),
    Column("policy_item", POLICY_ITEM, nullable=False),
    Column("note", String(1000)),
    Column("created_at", BigInteger, nullable=False),
)

mod_notes = Table(
    "mod_notes",
    metadata,
    Column("id", ID, primary_key=True),
    Column("case_id", ID, nullable=False, index=True),
    Column("author", ID, nullable=False),
    Column("text", String(4000), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

mod_actions = Table(
    "mod_actions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("case_id", ID, index=True),
    Column("target_type", String(16), nullable=False),
    Column("target_id", TARGET_ID, nullable=False),
    Column("account_id", ID, index=True),
    Column("action", String(24), nullable=False),
    Column("policy_item", POLICY_ITEM, nullable=False),
    Column("rationale", String(4000), nullable=False),
    Column("label", String(200)),
    Column("duration_days", Integer),
    Column("expires_at", BigInteger),
    # NULL when automated (a hash list with auto_remove).
    Column("moderator", ID),
    Column("source", String(16), nullable=False),
    Column("automated", Boolean, nullable=False),
    Column("strikes", Integer, nullable=False),
    # Set on an escalation: the action whose strikes reached the policy's threshold.
    Column("escalated_from", ID),
    Column("reversed_at", BigInteger),
    # The transparency log's leaf index of this action, once logged.
    Column("log_seq", BigInteger),
    Column("created_at", BigInteger, nullable=False),
)

mod_notices = Table(
    "mod_notices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, nullable=False, index=True),
    Column("action_id", ID, nullable=False, unique=True),
    # How the notice names the target, fixed when it was sent.
    Column("target_label", String(300), nullable=False),
    Column("target_url", String(400)),
    Column("created_at", BigInteger, nullable=False),
)

mod_appeals = Table(
    "mod_appeals",
    metadata,
    Column("id", ID, primary_key=True),
    Column("action_id", ID, nullable=False, unique=True),
    Column("notice_id", ID, nullable=False),
    Column("account_id", ID, nullable=False),
    Column("statement", String(4000), nullable=False),
    # pending | granted | denied
    Column("status", String(8), nullable=False),
    Column("decided_by", ID),
    Column("rationale", String(4000)),
    Column("created_at", BigInteger, nullable=False),
    Column("decided_at", BigInteger),
    Column("log_seq", BigInteger),
    Index(None, "status", "created_at"),
)

# Every moderator and admin action, in order; ``detail`` is JSON.
mod_audit = Table(
    "mod_audit",
    metadata,
    Column("id", POSITION, primary_key=True, autoincrement=True),
    Column("actor", ID, nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("detail", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
