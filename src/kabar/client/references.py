"""Finding things by what a person types: ``@bob``, a group title, an id or a prefix of one.

Conversations: ``c_…`` (an id, or a unique prefix of a known one), ``@user``
(the direct conversation with them) or a group's title (exact, ignoring case,
else a unique prefix). Messages: an event id or a unique prefix of one stored
on this device — ``kabar read`` shows the first characters, ``kabar report``
takes them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kabar.client.errors import AmbiguousReference, NotFoundLocally
from kabar.client.models import Conversation

if TYPE_CHECKING:
    from kabar.client.session import Session

SHORT_ID = 10  # characters of an event id shown to people ("e_" + 8)


def short_id(event_id: str) -> str:
    return event_id[:SHORT_ID]


class References:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def conversation(self, reference: str) -> Conversation:
        text = reference.strip()
        if not text:
            raise NotFoundLocally("name a chat: @username, a group title or an id")
        conversations = await self._session.conversations()
        me = self._session.username
        if text.startswith("@"):
            name = text[1:].casefold()
            direct = [c for c in conversations if c.kind == "direct" and c.name(me)[1:] == name]
            if direct:
                return direct[0]
            raise NotFoundLocally(f"no direct chat with @{name} yet (send them a message first)")
        by_id = [c for c in conversations if c.conversation_id.startswith(text)]
        if text.startswith("c_") and by_id:
            return _one(by_id, text)
        titled = [c for c in conversations if c.kind == "group" and c.title]
        exact = [c for c in titled if (c.title or "").casefold() == text.casefold()]
        if exact:
            return _one(exact, text)
        prefixed = [c for c in titled if (c.title or "").casefold().startswith(text.casefold())]
        if prefixed:
            return _one(prefixed, text)
        raise NotFoundLocally(f"no chat called {text!r} (see `kabar chats`)")

    def event_id(self, reference: str) -> str:
        text = reference.strip()
        if len(text) < 4:
            raise NotFoundLocally("give at least the first few characters of the message id")
        matches = self._session.store.messages.event_ids(text)
        if text in matches:
            return text
        if not matches:
            raise NotFoundLocally(f"no message {text} on this device")
        if len(matches) > 1:
            raise AmbiguousReference(f"{text} matches several messages", matches)
        return matches[0]


def _one(found: list[Conversation], text: str) -> Conversation:
    if len(found) > 1:
        ids = [c.conversation_id for c in found]
        raise AmbiguousReference(f"{text!r} matches several chats; use an id", ids)
    return found[0]
