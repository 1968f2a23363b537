"""The monthly transparency report: what moderation did in one calendar month (UTC).

Computed from two sources:

* **the transparency log** (the public record, so anyone can recompute these
  figures from ``/transparency/log``): actions by type, by source and by policy
  item, how many were automated, appeal outcomes, and authority requests —
  counted in the month their entry was logged, which for a delayed request is
  when its publication delay ended, never before;
* **a** :class:`ReportCounts` (the moderation service's tables, which are not
  public): reports received by category and source, appeals filed, and the
  time from a case's first report to each action, for the median. Until that
  is wired, :class:`NoReportCounts` reports none.

``build_report`` is pure; :class:`TransparencyReports` gathers its inputs.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from kabar.errors import InvalidRequest
from kabar.moderation.log_service import TransparencyService
from kabar.moderation.transparency.entries import LogEntry

_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class ModerationCounts:
    """What the moderation service counted in a month, for the report."""

    reports_by_category: Mapping[str, int] = field(default_factory=dict)  # policy item → reports
    reports_by_source: Mapping[str, int] = field(default_factory=dict)  # user_report, hash_match, …
    appeals_filed: int = 0
    time_to_action_ms: Sequence[int] = ()  # per action in the month: first report → action


class ReportCounts(Protocol):
    async def counts(self, start_ms: int, end_ms: int) -> ModerationCounts:
        """Figures for reports, appeals and cases in ``[start_ms, end_ms)``."""
        ...


class NoReportCounts:
    """Until the moderation service provides figures: none."""

    async def counts(self, start_ms: int, end_ms: int) -> ModerationCounts:
        return ModerationCounts()


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.fullmatch(text)
        if match is None or not 1970 <= int(match[1]) <= 9999:
            raise InvalidRequest(f"month must be YYYY-MM, not {text[:20]!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, ms: int) -> Month:
        moment = datetime.fromtimestamp(ms / 1000, UTC)
        return cls(moment.year, moment.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def start_ms(self) -> int:
        return int(datetime(self.year, self.month, 1, tzinfo=UTC).timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return self.next().start_ms

    @property
    def title(self) -> str:
        return datetime(self.year, self.month, 1).strftime("%B %Y")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class AuthorityLine:
    seq: int
    name: str
    legal_basis: str
    request: str
    received_ms: int
    logged_ms: int
    response: str
    policy_item: str


@dataclass(frozen=True, slots=True)
class MonthReport:
    month: Month
    reports_by_category: dict[str, int]
    reports_by_source: dict[str, int]
    actions_by_type: dict[str, int]
    actions_by_source: dict[str, int]
    actions_by_policy_item: dict[str, int]
    automated_actions: int
    median_time_to_action_ms: int | None
    appeals_filed: int
    appeals_granted: int
    appeals_denied: int
    authority_requests: tuple[AuthorityLine, ...]
    first_seq: int | None
    last_seq: int | None

    @property
    def reports_total(self) -> int:
        return sum(self.reports_by_category.values())

    @property
    def actions_total(self) -> int:
        return sum(self.actions_by_type.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "month": str(self.month),
            "start_ms": self.month.start_ms,
            "end_ms": self.month.end_ms,
            "reports": {
                "total": self.reports_total,
                "by_category": self.reports_by_category,
                "by_source": self.reports_by_source,
            },
            "actions": {
                "total": self.actions_total,
                "by_type": self.actions_by_type,
                "by_source": self.actions_by_source,
                "by_policy_item": self.actions_by_policy_item,
                "automated": self.automated_actions,
                "median_time_to_action_ms": self.median_time_to_action_ms,
            },
            "appeals": {
                "filed": self.appeals_filed,
                "granted": self.appeals_granted,
                "denied": self.appeals_denied,
            },
            "authority_requests": {
                "total": len(self.authority_requests),
                "by_response": _sorted(Counter(a.response for a in self.authority_requests)),
                "requests": [
                    {
                        "seq": a.seq,
                        "name": a.name,
                        "legal_basis": a.legal_basis,
                        "request": a.request,
                        "received_ms": a.received_ms,
                        "logged_ms": a.logged_ms,
                        "response": a.response,
                        "policy_item": a.policy_item,
                    }
                    for a in self.authority_requests
                ],
            },
            "log": {"first_seq": self.first_seq, "last_seq": self.last_seq},
        }


def build_report(
    month: Month, entries: Iterable[LogEntry], counts: ModerationCounts
) -> MonthReport:
    """The report of ``month`` from its log entries and the moderation service's counts."""
    entries = [e for e in entries if month.start_ms <= e.time_ms < month.end_ms]
    actions = [e for e in entries if e.kind == "action"]
    appeals = Counter(e.action for e in entries if e.kind == "appeal_outcome")
    authority = tuple(
        AuthorityLine(
            seq=e.seq,
            name=e.authority.name,
            legal_basis=e.authority.legal_basis,
            request=e.authority.request,
            received_ms=e.authority.received_ms,
            logged_ms=e.time_ms,
            response=e.action,
            policy_item=e.policy_item,
        )
        for e in entries
        if e.kind == "authority_request" and e.authority is not None
    )
    delays = list(counts.time_to_action_ms)
    return MonthReport(
        month=month,
        reports_by_category=_sorted(counts.reports_by_category),
        reports_by_source=_sorted(counts.reports_by_source),
        actions_by_type=_sorted(Counter(e.action for e in actions)),
        actions_by_source=_sorted(Counter(e.source for e in actions)),
        actions_by_policy_item=_sorted(Counter(e.policy_item for e in actions)),
        automated_actions=sum(e.automated for e in actions),
        median_time_to_action_ms=int(statistics.median(delays)) if delays else None,
        appeals_filed=counts.appeals_filed,
        appeals_granted=appeals["appeal_granted"],
        appeals_denied=appeals["appeal_denied"],
        authority_requests=authority,
        first_seq=entries[0].seq if entries else None,
        last_seq=entries[-1].seq if entries else None,
    )


def _sorted(counter: Mapping[str, int]) -> dict[str, int]:
    # Largest first, then by name: a stable order for pages and JSON alike.
    return dict(sorted(((k, v) for k, v in counter.items() if v), key=lambda kv: (-kv[1], kv[0])))


class TransparencyReports:
    def __init__(
        self,
        transparency: TransparencyService,
        titles: Mapping[str, str],
        counts: ReportCounts | None = None,
    ) -> None:
        self._log = transparency
        self.titles = dict(titles)  # policy item id → title, for pages
        # The moderation service replaces this with its own (helper M's wiring).
        self.counts: ReportCounts = counts or NoReportCounts()

    async def month(self, month: Month) -> MonthReport:
        entries = await self._log.entries_between(month.start_ms, month.end_ms)
        counts = await self.counts.counts(month.start_ms, month.end_ms)
        return build_report(month, entries, counts)

    async def months(self) -> list[Month]:
        """Every month from the log's first entry to its last, newest first."""
        span = await self._log.span()
        if span is None:
            return []
        months, month, last = [], Month.of(span[0]), Month.of(span[1])
        while (month.year, month.month) <= (last.year, last.month):
            months.append(month)
            month = month.next()
        return months[::-1]
