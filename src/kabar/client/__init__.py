"""kabar's Python SDK: an async client that does the end-to-end encryption for you.

Start with :class:`Client` (register, log in, reopen a saved device) and use
the :class:`Session` it gives you (send, receive, history, search, reports,
safety numbers, key backup). The modules, from the outside in::

    client      register / login / open → Session
    session     the facade: keys, sync and realtime, send, history, trust, backup
    models      what applications receive: Message, UnableToDecrypt, Notice, ArticlePublished …
    public      public accounts for a signed-in device (session.public): publish, follow, verify
    public_reader   reading and verifying any instance's articles without an account
    authorship  signing article revisions, checking signatures
    public_models, public_api   public accounts' values and HTTP API
    outgoing    the send path of one message
    receiver    what to do with each delivered event and to-device message
    sharing     Olm sessions on demand, room keys, late shares
    devices     device lists, trust on first use, change warnings, safety numbers
    members     conversation rosters kept current from events
    references  finding chats and messages by what people type
    keybackup   uploading and restoring the encrypted key backup
    upkeep      publishing keys and topping up one-time keys
    attachments encrypted files through the blob store
    updates     fan-out of live updates to subscribers
    engine      the crypto machines and the store they are saved to
    stream      WebSocket with resume and reconnects, long-poll fallback
    api, http, backoff, errors   the HTTP API, its transport and failures
    store, history, sqlitefile, vault   the encrypted local store
    crypto/     the pure E2E state machines (vodozemac)

See ``docs/e2e.md`` for the protocol.
"""

from kabar.client.client import Client, Registration
from kabar.client.errors import (
    ApiError,
    ClientError,
    InvalidReference,
    ServerUnreachable,
    SignedOut,
)
from kabar.client.models import (
    ArticlePublished,
    Attachment,
    Conversation,
    DeviceWarning,
    Message,
    Notice,
    UnableToDecrypt,
    Update,
    UtdReason,
)
from kabar.client.public import PublicAccounts
from kabar.client.public_models import (
    Article,
    ArticlePage,
    KeyCheck,
    PublicAccount,
    Revision,
    Verification,
)
from kabar.client.public_reader import PublicReader, locate
from kabar.client.session import Session

__all__ = [
    "ApiError",
    "Article",
    "ArticlePage",
    "ArticlePublished",
    "Attachment",
    "Client",
    "ClientError",
    "Conversation",
    "DeviceWarning",
    "InvalidReference",
    "KeyCheck",
    "Message",
    "Notice",
    "PublicAccount",
    "PublicAccounts",
    "PublicReader",
    "Registration",
    "Revision",
    "ServerUnreachable",
    "Session",
    "SignedOut",
    "UnableToDecrypt",
    "Update",
    "UtdReason",
    "Verification",
    "locate",
]
