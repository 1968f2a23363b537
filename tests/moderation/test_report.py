"""The monthly transparency report: its totals equal the database's own aggregates."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from kabar.delivery.transaction import WriteTx
from kabar.moderation import ledger
from kabar.moderation.report import ModerationCounts, Month
from kabar.moderation.transparency.entries import AuthorityRequest, LogEntry, Target
from kabar.store.schema_transparency import transparency_leaves as leaves
from support.api import Api, ApiError
from support.server import RunningServer

NOW = int(time.time() * 1000)
THIS = Month.of(NOW)
LAST = THIS.previous()

# (kind, action, source, policy item, automated, month)
PLAN = [
    ("action", "remove_content", "user_report", "spam", False, THIS),
    ("action", "remove_content", "hash_match", "child_safety", True, THIS),
    ("action", "remove_content", "hash_match", "terrorism", False, THIS),
    ("action", "label", "moderator", "misinformation", False, THIS),
    ("action", "dismiss", "user_report", "harassment", False, THIS),
    ("action", "suspend", "user_report", "violent_threats", False, THIS),
    ("action", "label", "user_report", "spam", False, LAST),
    ("appeal_outcome", "appeal_granted", "moderator", "spam", False, THIS),
    ("appeal_outcome", "appeal_denied", "moderator", "harassment", False, THIS),
    ("appeal_outcome", "appeal_granted", "moderator", "spam", False, LAST),
    ("authority_request", "disclose_data", "authority", "illegal_goods", False, THIS),
    ("authority_request", "no_action", "authority", "other", False, LAST),
]


def _maker(kind: str, action: str, source: str, item: str, automated: bool, month: Month):  # noqa: ANN202
    time_ms = min(NOW, month.end_ms - 1) if month == THIS else month.start_ms + 3_600_000

    def make(seq: int) -> LogEntry:
        return LogEntry(
            kind=kind,  # type: ignore[arg-type]
            seq=seq,
            time_ms=time_ms,
            policy_item=item,
            source=source,  # type: ignore[arg-type]
            automated=automated,
            action=action,
            target=Target("article", f"https://kabar.example/@x/a-{seq}"),
            summary=f"{action} under {item}",
            appeal_of=0 if kind == "appeal_outcome" else None,
            authority=AuthorityRequest("Police (Exampleland)", "Act §1", "Hand over data.", 1)
            if kind == "authority_request"
            else None,
        )

    return make


async def _fill(server: RunningServer) -> None:
    makers: list[Callable[[int], LogEntry]] = [_maker(*row) for row in PLAN]

    async def job(tx: WriteTx) -> None:
        for make in makers:
            await ledger.append_entry(tx.conn, make)

    await server.services.writer.run(job)


async def _aggregate(server: RunningServer, column: Any, kind: str) -> dict[str, int]:
    query = (
        select(column, func.count())
        .where(
            leaves.c.kind == kind,
            leaves.c.time_ms >= THIS.start_ms,
            leaves.c.time_ms < THIS.end_ms,
        )
        .group_by(column)
    )
    async with server.services.database.read() as conn:
        return {str(key): int(n) for key, n in await conn.execute(query)}


class FixedCounts:
    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []

    async def counts(self, start_ms: int, end_ms: int) -> ModerationCounts:
        self.asked.append((start_ms, end_ms))
        return ModerationCounts(
            reports_by_category={"spam": 4, "harassment": 2, "terrorism": 0},
            reports_by_source={"user_report": 5, "hash_match": 1},
            appeals_filed=3,
            time_to_action_ms=[60_000, 7_200_000, 90_000_000],
        )


async def test_report_totals_equal_the_database_aggregates(server: RunningServer, api: Api) -> None:
    await _fill(server)
    counts = FixedCounts()
    server.services.transparency_report.counts = counts
    report = await api.call("GET", "/transparency/report.json", params={"month": str(THIS)})
    assert counts.asked == [(THIS.start_ms, THIS.end_ms)]

    actions = report["actions"]
    assert actions["by_type"] == await _aggregate(server, leaves.c.action, "action")
    assert actions["by_source"] == await _aggregate(server, leaves.c.source, "action")
    assert actions["by_policy_item"] == await _aggregate(server, leaves.c.policy_item, "action")
    by_automated = await _aggregate(server, leaves.c.automated, "action")
    assert actions["automated"] == by_automated.get("True", 0) + by_automated.get("1", 0) == 1
    assert actions["total"] == sum(actions["by_type"].values()) == 6
    outcomes = await _aggregate(server, leaves.c.action, "appeal_outcome")
    assert report["appeals"] == {
        "filed": 3,
        "granted": outcomes["appeal_granted"],
        "denied": outcomes["appeal_denied"],
    }
    authority = await _aggregate(server, leaves.c.action, "authority_request")
    assert report["authority_requests"]["by_response"] == authority
    assert report["authority_requests"]["total"] == 1
    # From the moderation service's counts: passed through, zeros dropped, the median.
    assert report["reports"] == {
        "total": 6,
        "by_category": {"spam": 4, "harassment": 2},
        "by_source": {"user_report": 5, "hash_match": 1},
    }
    assert actions["median_time_to_action_ms"] == 7_200_000

    previous = await api.call("GET", "/transparency/report.json", params={"month": str(LAST)})
    assert previous["actions"]["by_type"] == {"label": 1}
    assert previous["appeals"]["granted"] == 1
    assert previous["authority_requests"]["total"] == 1


async def test_the_report_page_shows_the_month(server: RunningServer, api: Api) -> None:
    await _fill(server)
    response = await api.http.get("/transparency", params={"month": str(THIS)})
    assert response.status_code == 200
    html = response.text
    assert f"Transparency report, {THIS.title}" in html
    assert "Content removed" in html
    assert "Child safety" in html  # policy items by title
    assert "Hand over data." in html
    assert "kabar transparency verify --server" in html
    assert "<script" not in html
    assert "style=" not in html
    assert "default-src" in response.headers["content-security-policy"]
    assert LAST.title in html  # the month list and the previous-month link

    empty = await api.http.get("/transparency")
    assert empty.status_code == 200
    home = await api.http.get("/")
    assert 'href="/transparency"' in home.text  # every page's footer links the report


@pytest.mark.parametrize("month", ["2025-13", "25-01", "2025-1x", "0001-01"])
async def test_a_malformed_month_is_refused(api: Api, month: str) -> None:
    with pytest.raises(ApiError) as caught:
        await api.call("GET", "/transparency/report.json", params={"month": month})
    assert (caught.value.status, caught.value.code) == (400, "invalid_request")
    page = await api.http.get("/transparency", params={"month": month})
    assert page.status_code == 400
