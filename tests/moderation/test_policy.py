"""The shipped policy, operator overrides, and their validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from kabar.config import ConfigError
from kabar.errors import InvalidRequest
from kabar.moderation.actions import Action
from kabar.moderation.policy import (
    Escalation,
    PolicyError,
    default_policy,
    default_policy_text,
    load_policy,
    parse_policy,
)

DEFAULT_IDS = [
    "spam",
    "harassment",
    "violent_threats",
    "terrorism",
    "sexual_content",
    "child_safety",
    "misinformation",
    "illegal_goods",
    "impersonation",
    "other",
]

MINIMAL = """
version = 1
[strikes]
window_days = 30
[[items]]
id = "rude"
title = "Rudeness"
severity = 2
actions = ["dismiss", "remove_content"]
description = "Being rude."
"""


def test_the_default_policy_has_the_ten_documented_items() -> None:
    policy = default_policy()
    assert [item.id for item in policy.items] == DEFAULT_IDS
    for item in policy.items:
        assert len(item.description) > 200, item.id
        assert Action.DISMISS in item.actions
    top = {item.id for item in policy.items if item.severity == 5}
    assert top == {"child_safety", "terrorism"}


def test_one_upheld_child_safety_or_terrorism_violation_suspends() -> None:
    policy = default_policy()
    for item_id in ("child_safety", "terrorism"):
        strikes = policy.strikes_for(item_id, Action.REMOVE_CONTENT)
        escalation = policy.escalation(strikes)
        assert escalation is not None
        assert escalation.action is Action.SUSPEND


def test_escalation_follows_the_strike_rules() -> None:
    policy = default_policy()
    assert policy.strike_window_days == 90
    assert policy.escalation(0) is None
    assert policy.escalation(2) is None
    assert policy.escalation(3) == Escalation(3, Action.RESTRICT_PUBLISHING, 7)
    assert policy.escalation(4) == Escalation(3, Action.RESTRICT_PUBLISHING, 7)
    assert policy.escalation(5) == Escalation(5, Action.SUSPEND, None)
    assert policy.escalation(50) == Escalation(5, Action.SUSPEND, None)


def test_dismissals_and_labels_give_no_strikes() -> None:
    policy = default_policy()
    assert policy.strikes_for("spam", Action.DISMISS) == 0
    assert policy.strikes_for("spam", Action.LABEL) == 0
    assert policy.strikes_for("spam", Action.REMOVE_CONTENT) == 1
    assert policy.strikes_for("violent_threats", Action.SUSPEND) == 3


def test_allows_checks_the_item_action_list() -> None:
    policy = default_policy()
    assert policy.allows("misinformation", Action.LABEL)
    assert policy.allows("misinformation", "label")
    assert not policy.allows("misinformation", Action.SUSPEND)
    assert not policy.allows("child_safety", Action.LABEL)
    assert not policy.allows(policy.item("spam"), "delete_everything")


def test_an_unknown_item_is_an_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="'gossip' is not an item"):
        default_policy().item("gossip")


def test_descriptions_are_unwrapped_but_keep_paragraphs() -> None:
    text = MINIMAL.replace('"Being rude."', '"""\nBeing\nrude.\n\nSecond  paragraph.\n"""')
    assert parse_policy(text).item("rude").description == "Being rude.\n\nSecond paragraph."


def test_an_operator_file_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(MINIMAL)
    policy = load_policy(path)
    assert [item.id for item in policy.items] == ["rude"]
    assert policy.item("rude").strikes == 1
    assert policy.escalations == ()
    assert load_policy(None) == default_policy()


def test_an_edited_copy_of_the_default_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(default_policy_text().replace("window_days = 90", "window_days = 30"))
    assert load_policy(path).strike_window_days == 30


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("version = 1", "version = 2", "version must be 1, got 2"),
        (
            "severity = 2",
            "severity = 7",
            r"items\[0\] \(rude\): severity must be an integer from 1 to 5, got 7",
        ),
        ("severity = 2", 'severity = "high"', "severity must be an integer"),
        ('id = "rude"', 'id = "Rude Stuff"', "id must be lower-case"),
        ('"dismiss", "remove_content"', '"remove_content"', "must include dismiss"),
        ('"dismiss", "remove_content"', '"dismiss", "ban"', "action 'ban' is not one of dismiss"),
        ('"dismiss", "remove_content"', '"dismiss", "dismiss"', "listed twice"),
        ('title = "Rudeness"', 'title = ""', "title must be non-empty"),
        ('title = "Rudeness"', 'title = "Rudeness"\ncolour = "red"', r"unknown key\(s\) colour"),
        ('description = "Being rude."', "", "lacks description"),
        ("window_days = 30", "window_days = 0", "strikes.window_days must be an integer from 1"),
        ("[strikes]\nwindow_days = 30\n", "", "the policy lacks strikes"),
        ("severity = 2", "severity = 2\nstrikes = -1", "strikes must be an integer from 0"),
    ],
)
def test_bad_files_get_a_precise_message(old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    with pytest.raises(PolicyError, match=message):
        parse_policy(MINIMAL.replace(old, new, 1), source="mine.toml")


def test_duplicate_item_ids_are_refused() -> None:
    twice = MINIMAL + MINIMAL[MINIMAL.index("[[items]]") :]
    with pytest.raises(PolicyError, match=r"items\[1\]: id 'rude' is used twice"):
        parse_policy(twice)


ESCALATION = """
[[strikes.escalation]]
at = {first_at}
action = "{first}"
duration_days = 7
[[strikes.escalation]]
at = 4
action = "suspend"
"""


@pytest.mark.parametrize(
    ("first_at", "first", "message"),
    [
        (4, "restrict_publishing", "at must be greater than the previous rule's"),
        (2, "label", "action must be restrict_publishing or suspend, got 'label'"),
    ],
)
def test_bad_escalation_rules_are_refused(first_at: int, first: str, message: str) -> None:
    text = MINIMAL.replace(
        "window_days = 30\n",
        "window_days = 30\n" + ESCALATION.format(first_at=first_at, first=first),
    )
    with pytest.raises(PolicyError, match=message):
        parse_policy(text)


def test_escalation_may_not_weaken() -> None:
    weakening = """
[[strikes.escalation]]
at = 2
action = "suspend"
[[strikes.escalation]]
at = 4
action = "restrict_publishing"
"""
    text = MINIMAL.replace("window_days = 30\n", "window_days = 30\n" + weakening)
    with pytest.raises(PolicyError, match="restrict_publishing is weaker than the previous"):
        parse_policy(text)


def test_unreadable_and_invalid_toml_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("version = = 1")
    with pytest.raises(PolicyError, match=r"broken.toml: not valid TOML: .*line 1"):
        load_policy(broken)


def test_policy_errors_are_configuration_errors() -> None:
    assert issubclass(PolicyError, ConfigError)
