"""What the SDK hands to applications: messages, undecryptable events, notices, warnings,
and new articles from followed public accounts.

These are plain frozen dataclasses; the CLI renders them, tests assert on them,
``--json`` prints them with :func:`to_json`. An application receives them from
:meth:`kabar.client.session.Session.subscribe` (live) or reads them back with
:meth:`~kabar.client.session.Session.history`.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any


class UtdReason(enum.StrEnum):
    """Why a message could not be decrypted (``docs/e2e.md`` § receiving)."""

    MISSING_SESSION = "missing_session"  # no key yet: asked our devices and the backup
    UNKNOWN_INDEX = "unknown_index"  # we hold the session only from a later message on
    BAD_CIPHERTEXT = "bad_ciphertext"  # malformed, or fails Megolm's MAC or signature
    FRANKING_MISMATCH = "franking_mismatch"  # content does not open its commitment: dropped
    WRONG_CONVERSATION = "wrong_conversation"  # encrypted for another conversation: dropped
    REPLAYED_INDEX = "replayed_index"  # this ciphertext already came as another event
    SENDER_MISMATCH = "sender_mismatch"  # the key belongs to another device than the sender's
    UNSUPPORTED = "unsupported_algorithm"  # not kabar.megolm.v1

    @property
    def waiting(self) -> bool:
        """Whether a key may still arrive (from our devices, the backup, a late share)."""
        return self in (UtdReason.MISSING_SESSION, UtdReason.UNKNOWN_INDEX)


class SenderTrust(enum.StrEnum):
    VERIFIED = "verified"  # the sending device's safety number was compared
    UNVERIFIED = "unverified"  # known device, trusted on first use
    UNKNOWN_DEVICE = "unknown_device"  # the device is gone from the directory (history)


@dataclass(frozen=True, slots=True)
class Attachment:
    blob_id: str
    name: str
    mime: str
    size: int
    sha256: str
    descriptor: dict[str, Any]  # everything needed to download and decrypt it

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attachment:
        return cls(
            blob_id=str(data.get("blob_id", "")),
            name=str(data.get("name", "")),
            mime=str(data.get("mime", "application/octet-stream")),
            size=int(data.get("size", 0)),
            sha256=str(data.get("sha256", "")),
            descriptor=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Message:
    event_id: str
    conversation_id: str
    sender: str
    sender_device: str
    ts: int
    content: dict[str, Any]
    own: bool = False
    trust: SenderTrust = SenderTrust.UNVERIFIED
    forwarded: bool = False  # the key came from our own device or the backup

    @property
    def body(self) -> str:
        body = self.content.get("body")
        return body if isinstance(body, str) else ""

    @property
    def attachments(self) -> list[Attachment]:
        items = self.content.get("attachments")
        return [Attachment.from_json(a) for a in items if isinstance(a, dict)] if items else []


@dataclass(frozen=True, slots=True)
class UnableToDecrypt:
    event_id: str
    conversation_id: str
    sender: str
    sender_device: str
    ts: int
    reason: UtdReason
    detail: str = ""
    before_device: bool = False  # sent before this device existed: only the backup can help


@dataclass(frozen=True, slots=True)
class Notice:
    """A membership or conversation change (``member.joined``, ``conversation.updated`` …)."""

    event_id: str
    conversation_id: str
    type: str
    sender: str
    ts: int
    content: dict[str, Any]

    @property
    def text(self) -> str:
        who = self.content.get("username", "someone")
        by = self.content.get("by")
        return {
            "conversation.created": f"{self.sender} created the conversation",
            "conversation.updated": f"{by} renamed it to {self.content.get('title')!r}",
            "member.joined": f"{who} joined" + (f" (added by {by})" if by else ""),
            "member.left": f"{who} left",
            "member.removed": f"{who} was removed by {by}",
            "member.role_changed": f"{who} is now {self.content.get('role')}",
            "member.devices_changed": f"{who}'s devices changed",
        }.get(self.type, self.type)


@dataclass(frozen=True, slots=True)
class DeviceWarning:
    """A contact's devices changed since we last looked: their safety number changed."""

    username: str
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # same device id, new keys: a red flag
    removed: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        parts = []
        if self.added:
            parts.append(f"added {len(self.added)} device(s)")
        if self.changed:
            parts.append(f"CHANGED the keys of {', '.join(self.changed)}")
        if self.removed:
            parts.append(f"removed {len(self.removed)} device(s)")
        return f"{self.username} {' and '.join(parts)}: their safety number changed"


@dataclass(frozen=True, slots=True)
class ArticlePublished:
    """A public account you follow (notifications on) published an article, live.

    The content of an ``article.published`` event (``docs/api.md``); ``feed_id``
    is the public account's id. Read it with ``session.public.article(handle, slug)``.
    """

    event_id: str
    feed_id: str
    ts: int
    article_id: str
    handle: str
    account_name: str
    slug: str
    url: str
    title: str
    summary: str
    author: str  # username of the publisher of this revision
    published_at: int  # the signed publication time, ms
    reading_minutes: int
    revision: int

    @property
    def reference(self) -> str:
        return f"@{self.handle}/{self.slug}"

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> ArticlePublished:
        content = event.get("content") or {}
        return cls(
            event_id=str(event.get("event_id", "")),
            feed_id=str(event.get("feed_id", "")),
            ts=int(event.get("ts") or 0),
            article_id=str(content.get("article_id", "")),
            handle=str(content.get("handle", "")),
            account_name=str(content.get("account_name", "")),
            slug=str(content.get("slug", "")),
            url=str(content.get("url", "")),
            title=str(content.get("title", "")),
            summary=str(content.get("summary", "")),
            author=str(content.get("author", "")),
            published_at=int(content.get("published_at") or 0),
            reading_minutes=int(content.get("reading_minutes") or 0),
            revision=int(content.get("revision") or 0),
        )


@dataclass(frozen=True, slots=True)
class Conversation:
    conversation_id: str
    kind: str
    title: str | None
    members: tuple[str, ...]
    my_role: str
    last_seq: int
    member_count: int = 0

    def name(self, me: str) -> str:
        """How to show it: the group title, or ``@other`` for a direct chat."""
        if self.kind == "direct":
            others = [m for m in self.members if m != me]
            return "@" + (others[0] if others else me)
        return self.title or self.conversation_id


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    device_id: str
    display_name: str
    created_at: int
    last_seen_at: int
    current: bool
    verified: bool


@dataclass(frozen=True, slots=True)
class SafetyNumber:
    username: str
    number: str
    devices: tuple[tuple[str, str], ...]  # (device id, Ed25519 key) of the contact
    verified: bool


Update = Message | UnableToDecrypt | Notice | DeviceWarning | ArticlePublished


def to_json(value: Any) -> Any:
    """A JSON-ready form of any model above (enums as strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        data["object"] = type(value).__name__
        if isinstance(value, Message):
            data["body"] = value.body
        elif isinstance(value, Notice | DeviceWarning):
            data["text"] = value.text
        return data
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value
