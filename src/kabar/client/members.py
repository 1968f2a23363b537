"""Who is in each conversation, as far as this device knows — kept current from events.

A conversation's roster is loaded from the server on first use
(``GET /v1/conversations/{id}``, which answers members and ``last_seq`` from
one snapshot) and then updated by the membership events that follow it:
an event is applied only if its ``seq`` is newer than the snapshot, so
replaying old events (a new device catching up) never undoes a newer state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kabar.client.api import Api
from kabar.client.models import Conversation

JOINS = {"member.joined"}
LEAVES = {"member.left", "member.removed"}


class Rosters:
    def __init__(self, api: Api, own_username: str) -> None:
        self._api = api
        self._me = own_username
        self._known: dict[str, Conversation] = {}
        self._members: dict[str, dict[str, str]] = {}
        self._seq: dict[str, int] = {}

    async def load(self, conversation_id: str) -> Conversation:
        """Fetch (again) a conversation with its members from the server."""
        body = await self._api.conversation(conversation_id)
        return self.remember(body)

    def remember(self, body: dict[str, Any]) -> Conversation:
        conversation_id = body["conversation_id"]
        members = body.get("members")
        if members is not None:
            self._members[conversation_id] = {m["username"]: m["role"] for m in members}
            self._seq[conversation_id] = int(body.get("last_seq", 0))
        return self._store(conversation_id, body)

    def _store(self, conversation_id: str, body: dict[str, Any]) -> Conversation:
        names = tuple(sorted(self._members.get(conversation_id, {})))
        conversation = Conversation(
            conversation_id=conversation_id,
            kind=body["kind"],
            title=body.get("title"),
            members=names,
            my_role=body.get("my_role", "member"),
            last_seq=int(body.get("last_seq", 0)),
            member_count=int(body.get("member_count") or len(names)),
        )
        self._known[conversation_id] = conversation
        return conversation

    async def members(self, conversation_id: str) -> list[str]:
        if conversation_id not in self._members:
            await self.load(conversation_id)
        return sorted(self._members[conversation_id])

    def cached(self, conversation_id: str) -> Conversation | None:
        known = self._known.get(conversation_id)
        if known is None:
            return None
        if conversation_id not in self._members:
            return known
        members = tuple(sorted(self._members[conversation_id]))
        return dataclasses.replace(known, members=members, member_count=len(members))

    def created(self, event: dict[str, Any]) -> None:
        """Seed a roster from a ``conversation.created`` event if none is loaded yet."""
        conversation_id = event["conversation_id"]
        if conversation_id in self._members:
            return
        content = event.get("content", {})
        members = content.get("members", [])
        if not any(m.get("username") == self._me for m in members):
            return
        body = {
            "conversation_id": conversation_id,
            "kind": content.get("kind", "group"),
            "title": content.get("title"),
            "members": members,
            "last_seq": event.get("seq", 1),
            "my_role": next(m["role"] for m in members if m.get("username") == self._me),
        }
        self.remember(body)

    def apply(self, event: dict[str, Any]) -> None:
        """Apply a membership event newer than what we loaded (older ones are no-ops)."""
        conversation_id = event.get("conversation_id")
        if conversation_id not in self._members:
            return
        seq = int(event.get("seq") or 0)
        if seq <= self._seq[conversation_id]:
            return
        self._seq[conversation_id] = seq
        content, roster = event.get("content", {}), self._members[conversation_id]
        username = content.get("username")
        if event["type"] in JOINS and username:
            roster[username] = content.get("role", "member")
        elif event["type"] in LEAVES and username:
            roster.pop(username, None)
            if username == self._me:
                self.forget(conversation_id)
        elif event["type"] == "member.role_changed" and username in roster:
            roster[username] = content.get("role", roster[username])

    def forget(self, conversation_id: str) -> None:
        self._members.pop(conversation_id, None)
        self._seq.pop(conversation_id, None)
        self._known.pop(conversation_id, None)
