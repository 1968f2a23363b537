"""One transparency log entry: what it says, what it may say, and its leaf bytes.

An entry records one moderation action, one appeal outcome or one authority
request. Its leaf in the Merkle tree is the canonical JSON of :meth:`LogEntry.to_json`
(keys sorted, no whitespace, UTF-8), so anyone holding the JSON can recompute
the leaf hash. The format is frozen once an entry is logged; ``version`` lets a
later format live beside it.

Privacy rule: the log is public, so a private thing — an ``account`` (a person's
private account) or a chat ``message`` — is referenced only by a keyed hash of
its id (:func:`hashed_ref`), never by username or content. Repeated actions on
the same account share a reference, so readers can see escalation without
learning who it was. Public things (``article``, ``comment``,
``public_account``) are referenced by public URL or kabar id. ``summary`` is
public text and must not name private people.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from kabar.errors import InvalidRequest
from kabar.moderation.actions import Action
from kabar.moderation.policy import ITEM_ID
from kabar.moderation.transparency.merkle import leaf_hash
from kabar.protocol.canonical import canonical_json

FORMAT_VERSION = 1
SUMMARY_MAX = 1000
TEXT_MAX = 500
# JSON numbers above 2**53 lose precision in JavaScript readers of the log.
_INT_MAX = 2**53 - 1
_MIN_SALT = 16

Kind = Literal["action", "appeal_outcome", "authority_request"]
Source = Literal["user_report", "hash_match", "moderator", "authority"]
TargetType = Literal["article", "comment", "public_account", "account", "message"]
PRIVATE_TARGETS: frozenset[str] = frozenset({"account", "message"})

APPEAL_OUTCOMES = ("appeal_granted", "appeal_denied")
# What was done about an authority request: a moderation action, handing over
# data, or nothing.
AUTHORITY_RESPONSES = (
    "no_action",
    "label",
    "remove_content",
    "restrict_publishing",
    "suspend",
    "disclose_data",
)

_HASHED_REF = re.compile(r"sha256:[0-9a-f]{64}")
_KABAR_ID = re.compile(r"[a-z]_[a-z2-7]{26}")
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]{1,2040}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def hashed_ref(private_id: str, salt: bytes) -> str:
    """The public reference to a private account or message: ``sha256:<hex>``.

    ``HMAC-SHA256(salt, id)`` with the log's secret salt: stable for one id,
    but not invertible by hashing a list of guessed ids. Pass the account or
    event *id*, never a username (usernames can be guessed and can change).
    """
    if len(salt) < _MIN_SALT:
        raise InvalidRequest(f"the reference salt must be at least {_MIN_SALT} bytes")
    return "sha256:" + hmac.new(salt, private_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Target:
    """What an entry is about."""

    type: TargetType
    ref: str

    def __post_init__(self) -> None:
        if self.type not in get_args(TargetType):
            raise InvalidRequest(f"target.type {self.type!r} is not one of {_names(TargetType)}")
        if not isinstance(self.ref, str):
            raise InvalidRequest("target.ref must be a string")
        if _HASHED_REF.fullmatch(self.ref):
            return
        if self.type in PRIVATE_TARGETS:
            raise InvalidRequest(
                f"a target of type {self.type} is private: its ref must be a hashed ref "
                "(sha256:<64 hex>), never a username or id"
            )
        if not (_URL.fullmatch(self.ref) or _KABAR_ID.fullmatch(self.ref)):
            raise InvalidRequest(f"target.ref {self.ref[:80]!r} is not a public URL or kabar id")

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "ref": self.ref}


@dataclass(frozen=True, slots=True)
class AuthorityRequest:
    """Who asked, on what legal basis, for what, and when the request arrived."""

    name: str
    legal_basis: str
    request: str
    received_ms: int

    def __post_init__(self) -> None:
        for name in ("name", "legal_basis", "request"):
            _check_text(f"authority.{name}", getattr(self, name), TEXT_MAX)
        _check_int("authority.received_ms", self.received_ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "legal_basis": self.legal_basis,
            "request": self.request,
            "received_ms": self.received_ms,
        }


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One leaf of the transparency log. ``seq`` is its 0-based leaf index."""

    kind: Kind
    seq: int
    time_ms: int
    policy_item: str
    source: Source
    automated: bool
    action: str
    target: Target
    summary: str
    appeal_of: int | None = None  # for appeal_outcome: the seq of the action appealed
    authority: AuthorityRequest | None = None  # for authority_request
    version: int = field(default=FORMAT_VERSION)

    def __post_init__(self) -> None:
        if self.version != FORMAT_VERSION:
            raise InvalidRequest(f"log entry version {self.version!r} is not {FORMAT_VERSION}")
        if self.kind not in get_args(Kind):
            raise InvalidRequest(f"kind {self.kind!r} is not one of {_names(Kind)}")
        if self.source not in get_args(Source):
            raise InvalidRequest(f"source {self.source!r} is not one of {_names(Source)}")
        _check_int("seq", self.seq)
        _check_int("time_ms", self.time_ms)
        if not isinstance(self.policy_item, str) or not ITEM_ID.fullmatch(self.policy_item):
            raise InvalidRequest(f"policy_item {self.policy_item!r} is not a policy item id")
        if not isinstance(self.automated, bool):
            raise InvalidRequest("automated must be true or false")
        if not isinstance(self.target, Target):
            raise InvalidRequest("target must be a Target")
        _check_text("summary", self.summary, SUMMARY_MAX, multiline=True)
        self._check_kind_rules()

    def _check_kind_rules(self) -> None:
        allowed = {
            "action": tuple(a.value for a in Action),
            "appeal_outcome": APPEAL_OUTCOMES,
            "authority_request": AUTHORITY_RESPONSES,
        }[self.kind]
        if self.action not in allowed:
            raise InvalidRequest(
                f"action {self.action!r} is not one of {', '.join(allowed)} for kind {self.kind}"
            )
        if (self.kind == "authority_request") != (self.source == "authority"):
            raise InvalidRequest("source authority goes with kind authority_request, and only it")
        if (self.kind == "authority_request") != (self.authority is not None):
            raise InvalidRequest("authority details go with kind authority_request, and only it")
        if self.kind == "appeal_outcome" and self.source != "moderator":
            raise InvalidRequest("an appeal outcome is decided by a moderator (source moderator)")
        if self.automated and self.source != "hash_match":
            raise InvalidRequest("only a hash_match action can be automated")
        if (self.kind == "appeal_outcome") != (self.appeal_of is not None):
            raise InvalidRequest("appeal_of goes with kind appeal_outcome, and only it")
        if self.appeal_of is not None:
            _check_int("appeal_of", self.appeal_of)
            if self.appeal_of >= self.seq:
                raise InvalidRequest("appeal_of must name an earlier entry")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": self.version,
            "kind": self.kind,
            "seq": self.seq,
            "time_ms": self.time_ms,
            "policy_item": self.policy_item,
            "source": self.source,
            "automated": self.automated,
            "action": self.action,
            "target": self.target.to_json(),
            "summary": self.summary,
        }
        # Optional fields are left out rather than null, so each entry has one form.
        if self.appeal_of is not None:
            data["appeal_of"] = self.appeal_of
        if self.authority is not None:
            data["authority"] = self.authority.to_json()
        return data

    def leaf_bytes(self) -> bytes:
        """The canonical bytes hashed into the tree."""
        return canonical_json(self.to_json())

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf_bytes())

    @classmethod
    def from_json(cls, data: Any) -> LogEntry:
        """Parse and validate an entry as served by a log; unknown or null fields are refused."""
        required = {
            "version",
            "kind",
            "seq",
            "time_ms",
            "policy_item",
            "source",
            "automated",
            "action",
            "target",
            "summary",
        }
        fields = _object(data, "log entry", required, optional={"appeal_of", "authority"})
        target = _object(fields["target"], "target", {"type", "ref"})
        authority = None
        if "authority" in fields:
            details = _object(
                fields["authority"], "authority", {"name", "legal_basis", "request", "received_ms"}
            )
            authority = AuthorityRequest(**details)
        return cls(
            kind=fields["kind"],
            seq=fields["seq"],
            time_ms=fields["time_ms"],
            policy_item=fields["policy_item"],
            source=fields["source"],
            automated=fields["automated"],
            action=fields["action"],
            target=Target(type=target["type"], ref=target["ref"]),
            summary=fields["summary"],
            appeal_of=fields.get("appeal_of"),
            authority=authority,
            version=fields["version"],
        )


def _object(
    data: Any, what: str, required: set[str], optional: Collection[str] = ()
) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidRequest(f"{what} must be a JSON object")
    missing = required - set(data)
    if missing:
        raise InvalidRequest(f"{what} lacks {', '.join(sorted(missing))}")
    unknown = set(data) - required - set(optional)
    if unknown:
        raise InvalidRequest(f"{what} has unknown field(s) {', '.join(sorted(unknown))}")
    nulls = [key for key, value in data.items() if value is None]
    if nulls:
        raise InvalidRequest(f"{what} field(s) {', '.join(sorted(nulls))} must not be null")
    return data


def _check_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _INT_MAX:
        raise InvalidRequest(f"{name} must be an integer from 0 to 2**53-1")


def _check_text(name: str, value: object, limit: int, *, multiline: bool = False) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{name} must be non-empty text")
    if len(value) > limit:
        raise InvalidRequest(f"{name} is {len(value)} characters; the limit is {limit}")
    if _CONTROL.search(value) or (not multiline and "\n" in value):
        raise InvalidRequest(f"{name} contains control characters")


def _names(literal: Any) -> str:
    return ", ".join(get_args(literal))
