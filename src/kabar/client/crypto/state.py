"""The persistable form of the crypto layer's state: pickled sessions and their metadata.

vodozemac objects live in memory inside the machines (``olm``, ``megolm``);
after each operation that moves a ratchet the SDK drains the machines'
:class:`CryptoChanges` and hands them to the local store in one transaction,
because losing a ratchet step to a crash means messages nobody can decrypt.
Every ``pickle`` here is vodozemac's own encrypted pickle under the device's
32-byte pickle key; the same types describe a full snapshot when loading.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PickledOlmSession:
    peer_curve25519: str
    session_id: str
    pickle: str
    # Higher = used more recently; the most recent session is preferred for sending.
    last_used: int


@dataclass(frozen=True, slots=True)
class PickledOutbound:
    conversation_id: str
    session_id: str
    pickle: str
    created_at: float
    # Curve25519 keys of the devices that already received this session's key.
    shared_with: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PickledInbound:
    conversation_id: str
    sender_key: str
    session_id: str
    pickle: str
    # The sender's Ed25519 key as claimed by whoever gave us the key ("" if unknown).
    sender_ed25519: str
    # True when the key came by forwarding or backup, not from its creator over Olm.
    forwarded: bool


@dataclass(frozen=True, slots=True)
class SeenIndex:
    """A Megolm message index already decrypted, and the event that carried it."""

    sender_key: str
    session_id: str
    message_index: int
    event_id: str


@dataclass(slots=True)
class CryptoChanges:
    """What to write to the store; also the shape of a full snapshot when loading."""

    account: str | None = None
    olm_sessions: list[PickledOlmSession] = field(default_factory=list)
    outbound: list[PickledOutbound] = field(default_factory=list)
    discarded_outbound: list[str] = field(default_factory=list)
    inbound: list[PickledInbound] = field(default_factory=list)
    seen: list[SeenIndex] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.account
            or self.olm_sessions
            or self.outbound
            or self.discarded_outbound
            or self.inbound
            or self.seen
        )
