"""Events as clients see them, and the batches the writer publishes after each commit.

An event is rendered to its JSON bytes once — a committed one when a listener or
the broker first needs it, one read back from the store at once — and those bytes
are spliced into every sync response and WebSocket frame that carries it: fan-out
to a thousand sockets costs one ``json.dumps``. The stored ``content`` column is
already JSON text and is spliced in unparsed.

Event types (``type``) — conversation events carry ``conversation_id`` and a
gapless ``seq``; account events carry neither::

    message                  an end-to-end encrypted envelope (opaque to the server)
    conversation.created     content: kind, title, members [{account_id, username, role}]
    conversation.updated     content: title, by
    member.joined            content: account_id, username, role, by
    member.left              content: account_id, username
    member.removed           content: account_id, username, by
    member.role_changed      content: account_id, username, role, by
    member.devices_changed   content: account_id, username (a member's device list changed)
    message.deleted          content: event_id, by, as ("sender" or "admin"); the original's
                             stored envelope is redacted to {"redacted": true, …}

Feed events carry ``feed_id`` (a public account's id) and reach the accounts following
that feed live (``feed_periods``); the account-targeted ``feed.followed`` /
``feed.unfollowed`` events start and end that::

    feed.followed            content: feed_id, handle (to the follower's own devices)
    feed.unfollowed          content: feed_id, handle
    article.published        content: kabar.public.publishing.ArticlePublished

To-device messages are delivered in their own list/frames: sender, sender_device, type, content.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, Final

MESSAGE: Final = "message"
CONVERSATION_CREATED: Final = "conversation.created"
CONVERSATION_UPDATED: Final = "conversation.updated"
MEMBER_JOINED: Final = "member.joined"
MEMBER_LEFT: Final = "member.left"
MEMBER_REMOVED: Final = "member.removed"
MEMBER_ROLE_CHANGED: Final = "member.role_changed"
MEMBER_DEVICES_CHANGED: Final = "member.devices_changed"
FEED_FOLLOWED: Final = "feed.followed"
FEED_UNFOLLOWED: Final = "feed.unfollowed"
ARTICLE_PUBLISHED: Final = "article.published"

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
if c_make_encoder is not None:
    # One C encoder for every call: JSONEncoder.encode builds a new one each time, a third
    # of a small dumps, and a send renders three. No circular-reference markers: kabar
    # only encodes trees it built.
    _encode = c_make_encoder(
        None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, True
    )

    def _dumps(value: Any) -> str:
        return "".join(_encode(value, 0))

else:  # an interpreter without the C accelerator

    def _dumps(value: Any) -> str:
        return _ENCODER.encode(value)


def dumps(value: Any) -> str:
    """Compact JSON text (the form stored in ``content`` columns)."""
    return _dumps(value)


def _splice(header: dict[str, Any], content_json: str) -> bytes:
    head = _dumps({k: v for k, v in header.items() if v is not None})
    return (head[:-1] + ',"content":' + content_json + "}").encode()


def event_frame(
    *,
    event_id: str,
    type: str,
    conversation_id: str | None,
    seq: int | None,
    feed_id: str | None = None,
    sender: str | None,
    sender_id: str | None,
    sender_device: str | None,
    txn_id: str | None,
    ts: int,
    content_json: str,
    franking_tag: str | None,
) -> bytes:
    return _splice(
        {
            "event_id": event_id,
            "type": type,
            "conversation_id": conversation_id,
            "seq": seq,
            "feed_id": feed_id,
            "sender": sender,
            "sender_id": sender_id,
            "sender_device": sender_device,
            "txn_id": txn_id,
            "ts": ts,
            "franking_tag": franking_tag,
        },
        content_json,
    )


def to_device_frame(
    *, type: str, sender: str | None, sender_id: str, sender_device: str, ts: int, content_json: str
) -> bytes:
    return _splice(
        {
            "type": type,
            "sender": sender,
            "sender_id": sender_id,
            "sender_device": sender_device,
            "ts": ts,
        },
        content_json,
    )


class Dispatch:
    """One committed item, with what the hub needs to route it to live listeners.

    Its client ``frame`` is rendered by ``render`` the first time something reads it — a
    listener taking the item, or the broker's encoding, both after the writer has answered
    the item's sender — and then kept. When nobody listens (a conversation whose members
    are all offline, as those of mobile clients mostly are), it is never rendered.
    """

    __slots__ = (
        "_frame",
        "_render",
        "conversation_id",
        "device_id",
        "feed_id",
        "follows",
        "joins",
        "leaves",
        "pos",
        "target_account",
        "to_device",
        "unfollows",
    )

    def __init__(
        self,
        pos: int,
        frame: bytes | None = None,
        *,
        render: Callable[[], bytes] | None = None,
        to_device: bool = False,
        conversation_id: str | None = None,
        target_account: str | None = None,
        device_id: str | None = None,
        feed_id: str | None = None,
        joins: tuple[str, ...] = (),
        leaves: tuple[str, ...] = (),
        follows: tuple[str, ...] = (),
        unfollows: tuple[str, ...] = (),
    ) -> None:
        self.pos = pos
        self._frame = frame
        self._render = render
        self.to_device = to_device
        self.conversation_id = conversation_id
        self.target_account = target_account
        self.device_id = device_id
        self.feed_id = feed_id
        # Accounts whose view of conversation_id starts / ends with this event.
        self.joins = joins
        self.leaves = leaves
        # Feeds target_account starts / stops following with this event.
        self.follows = follows
        self.unfollows = unfollows

    @property
    def frame(self) -> bytes:
        """The item as clients see it: JSON bytes, rendered once."""
        frame = self._frame
        if frame is None:
            if self._render is None:
                raise ValueError(f"the item at {self.pos} has neither a frame nor a renderer")
            frame = self._frame = self._render()
            self._render = None
        return frame

    def render_with(self, render: Callable[[], bytes]) -> None:
        """Render the frame with ``render`` when it is first read (replacing any frame)."""
        self._frame = None
        self._render = render

    def _key(self) -> tuple[Any, ...]:
        return (
            self.pos,
            self.frame,
            self.to_device,
            self.conversation_id,
            self.target_account,
            self.device_id,
            self.feed_id,
            self.joins,
            self.leaves,
            self.follows,
            self.unfollows,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dispatch) and self._key() == other._key()

    def __repr__(self) -> str:
        rendered = "rendered" if self._frame is not None else "not rendered yet"
        return f"Dispatch(pos={self.pos}, to_device={self.to_device}, frame {rendered})"


@dataclass(slots=True)
class StreamBatch:
    """The items of one committed write batch: positions ``first`` to ``last``, contiguous."""

    first: int
    last: int
    items: list[Dispatch] = field(default_factory=list)

    def encode(self) -> bytes:
        index = [
            [
                d.pos,
                1 if d.to_device else 0,
                d.conversation_id,
                d.target_account,
                d.device_id,
                list(d.joins),
                list(d.leaves),
                len(d.frame),
                d.feed_id,
                list(d.follows),
                list(d.unfollows),
            ]
            for d in self.items
        ]
        header = _dumps({"f": self.first, "l": self.last, "i": index}).encode()
        return header + b"\n" + b"".join(d.frame for d in self.items)

    @classmethod
    def decode(cls, data: bytes) -> StreamBatch:
        newline = data.index(b"\n")
        header = json.loads(data[:newline])
        offset = newline + 1
        items: list[Dispatch] = []
        for entry in header["i"]:
            (
                pos,
                to_device,
                conv,
                target,
                device,
                joins,
                leaves,
                length,
                feed,
                follows,
                unfollows,
            ) = entry
            frame = data[offset : offset + length]
            offset += length
            items.append(
                Dispatch(
                    pos=pos,
                    frame=frame,
                    to_device=bool(to_device),
                    conversation_id=conv,
                    target_account=target,
                    device_id=device,
                    joins=tuple(joins),
                    leaves=tuple(leaves),
                    feed_id=feed,
                    follows=tuple(follows),
                    unfollows=tuple(unfollows),
                )
            )
        return cls(first=header["f"], last=header["l"], items=items)
