"""The values the moderation services return: cases, reports, actions, notices, appeals, audit.

Each has a ``to_json()`` giving exactly the JSON of the HTTP contract
(docs/api.md § moderation), so the API, the console and the CLI show the same thing.
Times are Unix milliseconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class TargetType(enum.StrEnum):
    ARTICLE = "article"
    COMMENT = "comment"
    PUBLIC_ACCOUNT = "public_account"
    ACCOUNT = "account"
    MESSAGE = "message"  # a franked chat-message report (never reported through this API)
    MEDIA = "media"  # an uploaded image a hash list matched (never reported through this API)


class Source(enum.StrEnum):
    USER_REPORT = "user_report"
    HASH_MATCH = "hash_match"
    MODERATOR = "moderator"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AppealStatus(enum.StrEnum):
    NONE = "none"
    PENDING = "pending"
    GRANTED = "granted"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class Target:
    type: TargetType
    id: str


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A target as moderation sees it: who is affected, how to name it, what it says."""

    type: TargetType
    id: str
    owner_account: str | None
    label: str
    url: str | None
    snapshot: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None


@dataclass(frozen=True, slots=True)
class CaseSummary:
    id: str
    target_type: str
    target_id: str
    target_label: str
    target_url: str | None
    policy_item: str
    severity: int
    status: str
    source: str
    report_count: int
    assignee: str | None  # username
    created_at: int
    updated_at: int
    closed_at: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": {
                "type": self.target_type,
                "id": self.target_id,
                "label": self.target_label,
                "url": self.target_url,
            },
            "policy_item": self.policy_item,
            "severity": self.severity,
            "status": self.status,
            "source": self.source,
            "report_count": self.report_count,
            "assignee": self.assignee,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "closed_at": self.closed_at,
        }


@dataclass(frozen=True, slots=True)
class ReportView:
    id: str
    source: str
    policy_item: str
    note: str | None
    reporter: str | None  # username; moderators only, never the reported party
    created_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "policy_item": self.policy_item,
            "note": self.note,
            "reporter": self.reporter,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class NoteView:
    id: str
    author: str
    text: str
    created_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "author": self.author,
            "text": self.text,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class ActionRecord:
    id: str
    case_id: str | None
    target_type: str
    target_id: str
    account: str | None  # the affected account's username
    action: str
    policy_item: str
    rationale: str
    label: str | None
    duration_days: int | None
    expires_at: int | None
    moderator: str | None  # username; None when automated
    source: str
    automated: bool
    strikes: int
    escalated_from: str | None
    reversed_at: int | None
    created_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "target": {"type": self.target_type, "id": self.target_id},
            "account": self.account,
            "action": self.action,
            "policy_item": self.policy_item,
            "rationale": self.rationale,
            "label": self.label,
            "duration_days": self.duration_days,
            "expires_at": self.expires_at,
            "moderator": self.moderator,
            "source": self.source,
            "automated": self.automated,
            "strikes": self.strikes,
            "escalated_from": self.escalated_from,
            "reversed_at": self.reversed_at,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class Appeal:
    id: str
    notice_id: str
    action_id: str
    account: str  # the appellant's username
    statement: str
    status: str  # pending | granted | denied
    decided_by: str | None
    rationale: str | None
    created_at: int
    decided_at: int | None
    action: ActionRecord | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "notice_id": self.notice_id,
            "action_id": self.action_id,
            "account": self.account,
            "statement": self.statement,
            "status": self.status,
            "decided_by": self.decided_by,
            "rationale": self.rationale,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
            "action": self.action.to_json() if self.action else None,
        }


@dataclass(frozen=True, slots=True)
class CaseDetail:
    summary: CaseSummary
    owner: str | None  # the affected account's username
    snapshot: dict[str, Any]  # the content as first reported
    reports: list[ReportView] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary.to_json(),
            "owner": self.owner,
            "snapshot": self.snapshot,
            "reports": [r.to_json() for r in self.reports],
            "notes": [n.to_json() for n in self.notes],
            "actions": [a.to_json() for a in self.actions],
            "appeals": [a.to_json() for a in self.appeals],
        }


@dataclass(frozen=True, slots=True)
class NoticeAppeal:
    deadline: int
    status: str  # none | pending | granted | denied
    decided_at: int | None
    rationale: str | None


@dataclass(frozen=True, slots=True)
class Notice:
    """What the affected owner is told: what, under which rule, why, and how to appeal."""

    id: str
    created_at: int
    action: str
    policy_item_id: str
    policy_item_title: str
    target_type: str
    target_id: str
    target_label: str
    target_url: str | None
    rationale: str
    label: str | None
    duration_days: int | None
    appeal: NoticeAppeal

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "action": self.action,
            "policy_item": {"id": self.policy_item_id, "title": self.policy_item_title},
            "target": {
                "type": self.target_type,
                "id": self.target_id,
                "label": self.target_label,
                "url": self.target_url,
            },
            "rationale": self.rationale,
            "label": self.label,
            "duration_days": self.duration_days,
            "appeal": {
                "deadline": self.appeal.deadline,
                "status": self.appeal.status,
                "decided_at": self.appeal.decided_at,
                "rationale": self.appeal.rationale,
            },
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor: str  # username
    action: str
    subject: str
    detail: dict[str, Any]
    created_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "detail": self.detail,
            "created_at": self.created_at,
        }
