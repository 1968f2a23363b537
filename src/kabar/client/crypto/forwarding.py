"""Key forwarding between one account's own devices, so a new device reads old messages.

A device missing a Megolm session asks the account's other devices, over Olm::

    {"type": "kabar.room_key_request", "conversation_id", "session_id",
     "sender_key", "request_id"}

A device holding the session answers with the session exported at its first
known index::

    {"type": "kabar.forwarded_room_key", "request_id", "conversation_id",
     "sender_key", "session_id", "session_key", "first_known_index", "sender_ed25519"}

Policy (DESIGN §4): answer only requests from this account's own *verified*
devices, and accept forwarded keys only from them. Forwarded sessions are
marked ``forwarded``: the original sender is vouched for by our own device, not
by the sender's Olm session.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kabar.client.crypto.errors import MalformedPayload
from kabar.client.crypto.inbound import ExportedSession, InboundSessions
from kabar.client.crypto.olm import ToDeviceMessage

KEY_REQUEST = "kabar.room_key_request"
FORWARDED_KEY = "kabar.forwarded_room_key"


@dataclass(frozen=True, slots=True)
class KeyRequest:
    conversation_id: str
    session_id: str
    sender_key: str
    request_id: str

    @classmethod
    def new(cls, conversation_id: str, session_id: str, sender_key: str) -> KeyRequest:
        return cls(conversation_id, session_id, sender_key, secrets.token_urlsafe(16))

    def to_content(self) -> dict[str, str]:
        return {
            "type": KEY_REQUEST,
            "conversation_id": self.conversation_id,
            "session_id": self.session_id,
            "sender_key": self.sender_key,
            "request_id": self.request_id,
        }

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> KeyRequest:
        fields = ("conversation_id", "session_id", "sender_key", "request_id")
        values = [content.get(f) for f in fields]
        if content.get("type") != KEY_REQUEST or not all(isinstance(v, str) for v in values):
            raise MalformedPayload(f"a {KEY_REQUEST} needs {', '.join(fields)}")
        conversation_id, session_id, sender_key, request_id = (str(v) for v in values)
        return cls(conversation_id, session_id, sender_key, request_id)


def is_own_verified_device(message: ToDeviceMessage, own_username: str, verified: bool) -> bool:
    """The policy input: the Olm-authenticated sender is ours and we verified that device."""
    return message.sender == own_username and verified


def answer_request(
    request: KeyRequest, sessions: InboundSessions, *, from_own_verified_device: bool
) -> dict[str, Any] | None:
    """The forwarded-key content to send back, or ``None`` (not allowed, or no such key)."""
    if not from_own_verified_device:
        return None
    export = sessions.export(request.conversation_id, request.sender_key, request.session_id)
    if export is None:
        return None
    return {"type": FORWARDED_KEY, "request_id": request.request_id, **export.to_json()}


def accept_forwarded_key(
    message: ToDeviceMessage, *, from_own_verified_device: bool
) -> ExportedSession | None:
    """The session a forwarded key carries, or ``None`` if policy says ignore it."""
    if message.type != FORWARDED_KEY:
        raise MalformedPayload(f"not a {FORWARDED_KEY}")
    if not from_own_verified_device:
        return None
    return ExportedSession.from_json(message.content)
