"""The moderation policy as data: items, what each allows, and strike escalation.

kabar ships ``default_policy.toml``; an operator replaces it with their own
file of the same schema (see that file's comments and ``docs/moderation.md``).
:func:`load_policy` checks a file completely before kabar uses it and says
precisely what is wrong (``items[3] (spam): severity must be ...``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kabar.config import ConfigError
from kabar.errors import InvalidRequest
from kabar.moderation.actions import Action

FORMAT_VERSION = 1
ITEM_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
TITLE_MAX = 100
DESCRIPTION_MAX = 4000
# Escalation acts on the account, so only account-wide actions make sense there.
ESCALATION_ACTIONS = (Action.RESTRICT_PUBLISHING, Action.SUSPEND)


class PolicyError(ConfigError):
    """A policy file is unreadable or breaks the schema."""


@dataclass(frozen=True, slots=True)
class PolicyItem:
    id: str
    title: str
    description: str
    severity: int  # 1..5; orders the moderation queue
    actions: tuple[Action, ...]
    strikes: int  # added by an upheld action that gives strikes


@dataclass(frozen=True, slots=True)
class Escalation:
    at: int  # strikes within the window
    action: Action
    duration_days: int | None  # None: until lifted


@dataclass(frozen=True, slots=True)
class Policy:
    items: tuple[PolicyItem, ...]
    strike_window_days: int
    escalations: tuple[Escalation, ...]  # ascending ``at``

    def item(self, item_id: str) -> PolicyItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise InvalidRequest(f"{item_id!r} is not an item of the moderation policy")

    def allows(self, item: str | PolicyItem, action: Action | str) -> bool:
        """May a moderator take ``action`` under ``item``? Unknown actions are not allowed."""
        chosen = self.item(item) if isinstance(item, str) else item
        return action in {a.value for a in chosen.actions}

    def strikes_for(self, item: str | PolicyItem, action: Action) -> int:
        """Strikes an upheld ``action`` under ``item`` adds to the account."""
        chosen = self.item(item) if isinstance(item, str) else item
        return chosen.strikes if action.gives_strike else 0

    def escalation(self, strike_count: int) -> Escalation | None:
        """The strongest rule an account with ``strike_count`` strikes (in the window) reached."""
        reached = [rule for rule in self.escalations if rule.at <= strike_count]
        return reached[-1] if reached else None


def default_policy_text() -> str:
    return resources.files("kabar.moderation").joinpath("default_policy.toml").read_text("utf-8")


def default_policy() -> Policy:
    return parse_policy(default_policy_text(), source="default_policy.toml")


def load_policy(path: str | Path | None = None) -> Policy:
    """The operator's policy file, or the shipped default when ``path`` is None."""
    if path is None:
        return default_policy()
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from exc
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return _build(raw)
    except _Invalid as exc:
        raise PolicyError(f"{source}: {exc}") from None


class _Invalid(Exception):
    """A schema violation, before the file name is prefixed."""


def _build(raw: Mapping[str, Any]) -> Policy:
    _keys(raw, "the policy", required={"version", "strikes", "items"})
    if raw["version"] != FORMAT_VERSION:
        raise _Invalid(f"version must be {FORMAT_VERSION}, got {raw['version']!r}")
    items_raw = raw["items"]
    if not isinstance(items_raw, list) or not items_raw:
        raise _Invalid("items must be a non-empty array of [[items]] tables")
    items = tuple(_item(entry, f"items[{i}]") for i, entry in enumerate(items_raw))
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            raise _Invalid(f"items[{i}]: id {item.id!r} is used twice")
        seen.add(item.id)
    window, escalations = _strikes(raw["strikes"])
    return Policy(items=items, strike_window_days=window, escalations=escalations)


def _item(raw: Any, where: str) -> PolicyItem:
    if not isinstance(raw, Mapping):
        raise _Invalid(f"{where} must be a table")
    if isinstance(raw.get("id"), str):
        where = f"{where} ({raw['id']})"
    _keys(
        raw,
        where,
        required={"id", "title", "description", "severity", "actions"},
        optional={"strikes"},
    )
    item_id = raw["id"]
    if not isinstance(item_id, str) or not ITEM_ID.fullmatch(item_id):
        raise _Invalid(f"{where}: id must be lower-case letters, digits and _ (max 64)")
    title = _text(raw["title"], f"{where}: title", TITLE_MAX)
    description = _paragraphs(_text(raw["description"], f"{where}: description", DESCRIPTION_MAX))
    severity = _int(raw["severity"], f"{where}: severity", 1, 5)
    strikes = _int(raw.get("strikes", 1), f"{where}: strikes", 0, 100)
    return PolicyItem(
        item_id, title, description, severity, _actions(raw["actions"], where), strikes
    )


def _actions(raw: Any, where: str) -> tuple[Action, ...]:
    known = ", ".join(a.value for a in Action)
    if not isinstance(raw, list) or not raw:
        raise _Invalid(f"{where}: actions must be a non-empty list of {known}")
    actions = []
    for value in raw:
        if value not in {a.value for a in Action}:
            raise _Invalid(f"{where}: action {value!r} is not one of {known}")
        if Action(value) in actions:
            raise _Invalid(f"{where}: action {value!r} is listed twice")
        actions.append(Action(value))
    if Action.DISMISS not in actions:
        raise _Invalid(
            f"{where}: actions must include dismiss, or an unfounded report could not be closed"
        )
    return tuple(sorted(actions, key=lambda a: a.strength))


def _strikes(raw: Any) -> tuple[int, tuple[Escalation, ...]]:
    if not isinstance(raw, Mapping):
        raise _Invalid("strikes must be a table")
    _keys(raw, "strikes", required={"window_days"}, optional={"escalation"})
    window = _int(raw["window_days"], "strikes.window_days", 1, 3650)
    rules_raw = raw.get("escalation", [])
    if not isinstance(rules_raw, list):
        raise _Invalid("strikes.escalation must be an array of [[strikes.escalation]] tables")
    rules: list[Escalation] = []
    for i, rule in enumerate(rules_raw):
        where = f"strikes.escalation[{i}]"
        if not isinstance(rule, Mapping):
            raise _Invalid(f"{where} must be a table")
        _keys(rule, where, required={"at", "action"}, optional={"duration_days"})
        at = _int(rule["at"], f"{where}: at", 1, 1000)
        if rule["action"] not in {a.value for a in ESCALATION_ACTIONS}:
            allowed = " or ".join(a.value for a in ESCALATION_ACTIONS)
            raise _Invalid(f"{where}: action must be {allowed}, got {rule['action']!r}")
        duration = rule.get("duration_days")
        if duration is not None:
            duration = _int(duration, f"{where}: duration_days", 1, 3650)
        escalation = Escalation(at, Action(rule["action"]), duration)
        if rules and at <= rules[-1].at:
            raise _Invalid(f"{where}: at must be greater than the previous rule's ({rules[-1].at})")
        if rules and escalation.action.strength < rules[-1].action.strength:
            raise _Invalid(f"{where}: {escalation.action} is weaker than the previous rule's")
        rules.append(escalation)
    return window, tuple(rules)


def _keys(
    raw: Mapping[str, Any], where: str, *, required: set[str], optional: Collection[str] = ()
) -> None:
    missing = required - set(raw)
    if missing:
        raise _Invalid(f"{where} lacks {', '.join(sorted(missing))}")
    unknown = set(raw) - required - set(optional)
    if unknown:
        raise _Invalid(f"{where} has unknown key(s) {', '.join(sorted(unknown))}")


def _int(value: Any, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _Invalid(f"{where} must be an integer from {low} to {high}, got {value!r}")
    return value


def _paragraphs(text: str) -> str:
    # TOML multi-line strings wrap where the editor did; keep only blank-line breaks.
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text))


def _text(value: Any, where: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"{where} must be non-empty text")
    if len(value) > limit:
        raise _Invalid(f"{where} is {len(value)} characters; the limit is {limit}")
    return value.strip()
