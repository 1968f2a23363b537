"""kabar's Python SDK: an async client that does the end-to-end encryption for you.

Start with :class:`Client` (register, log in, reopen a saved device) and use
the :class:`Session` it gives you (send, receive, history, search, reports,
safety numbers, key backup). The modules, from the outside in::

    client      register / login / open → Session
    session     the facade: keys, sync and realtime, send, history, trust, backup
    receiver    what to do with each delivered event and to-device message
    sharing     Olm sessions on demand, room keys, late shares
    devices     device lists, trust on first use, change warnings
    members     conversation rosters kept current from events
    keybackup   uploading and restoring the encrypted key backup
    stream      WebSocket with resume and reconnects, long-poll fallback
    api, http   the HTTP API and its transport
    store, history, vault   the encrypted local store
    crypto/     the pure E2E state machines (vodozemac)

See ``docs/e2e.md`` for the protocol.
"""

from kabar.client.client import Client, Registration
from kabar.client.errors import ApiError, ClientError, ServerUnreachable, SignedOut
from kabar.client.models import (
    Attachment,
    Conversation,
    DeviceWarning,
    Message,
    Notice,
    UnableToDecrypt,
    Update,
    UtdReason,
)
from kabar.client.session import Session

__all__ = [
    "ApiError",
    "Attachment",
    "Client",
    "ClientError",
    "Conversation",
    "DeviceWarning",
    "Message",
    "Notice",
    "Registration",
    "ServerUnreachable",
    "Session",
    "SignedOut",
    "UnableToDecrypt",
    "Update",
    "UtdReason",
]
