"""A small, varied log shared by the transparency tests."""

from __future__ import annotations

import pytest

from kabar.moderation.transparency.entries import (
    AuthorityRequest,
    LogEntry,
    Target,
    hashed_ref,
)

SALT = b"0123456789abcdef-test-salt"
T0 = 1_735_689_600_000  # 2025-01-01T00:00:00Z


def make_log(count: int) -> list[LogEntry]:
    """``count`` entries cycling through every kind of entry."""
    entries: list[LogEntry] = []
    for seq in range(count):
        time_ms = T0 + seq * 60_000
        match seq % 4:
            case 0:
                entry = LogEntry(
                    kind="action",
                    seq=seq,
                    time_ms=time_ms,
                    policy_item="spam",
                    source="user_report",
                    automated=False,
                    action="remove_content",
                    target=Target("article", f"https://kabar.example/@shop/deal-{seq}"),
                    summary="Repeated advertising posted as an article.",
                )
            case 1:
                entry = LogEntry(
                    kind="action",
                    seq=seq,
                    time_ms=time_ms,
                    policy_item="child_safety",
                    source="hash_match",
                    automated=True,
                    action="remove_content",
                    target=Target("comment", "m_" + "a" * 26),
                    summary="Image matched an imported hash list.",
                )
            case 2:
                entry = LogEntry(
                    kind="appeal_outcome",
                    seq=seq,
                    time_ms=time_ms,
                    policy_item="spam",
                    source="moderator",
                    automated=False,
                    action="appeal_granted",
                    target=Target("account", hashed_ref(f"a_{seq}", SALT)),
                    summary="On review the posts were not advertising; restored.",
                    appeal_of=seq - 2,
                )
            case _:
                entry = LogEntry(
                    kind="authority_request",
                    seq=seq,
                    time_ms=time_ms,
                    policy_item="violent_threats",
                    source="authority",
                    automated=False,
                    action="no_action",
                    target=Target("public_account", "https://kabar.example/@someone"),
                    summary="Request to remove a public account; no violation found.",
                    authority=AuthorityRequest(
                        name="Example City Police",
                        legal_basis="Example Act §12",
                        request="Remove the public account @someone.",
                        received_ms=time_ms - 86_400_000,
                    ),
                )
        entries.append(entry)
    return entries


@pytest.fixture
def log_entries() -> list[LogEntry]:
    return make_log(12)
