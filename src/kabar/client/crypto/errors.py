"""The client crypto error tree: every failure of the E2E layer is a :class:`CryptoError`.

These are local failures (a signature that does not verify, a payload we must
not trust, a wrong passphrase), not server answers, so they stand apart from
:class:`kabar.errors.KabarError`, which carries an HTTP status. The tree::

    CryptoError
    ├── InvalidSignature        a device's identity or one-time key signature is bad
    ├── MalformedPayload        input is not the JSON shape the protocol defines
    ├── MissingOlmSession       no Olm session to some recipient: claim a one-time key first
    ├── OlmDecryptionFailed     no Olm session could decrypt a to-device message
    ├── RejectedPayload         decrypted, but must not be trusted (misaddressed, forged sender)
    │   └── UnknownSenderDevice the sender device is not in the directory yet (retryable)
    ├── SessionNeedsRotation    the outbound Megolm session expired: call ``prepare`` again
    ├── InvalidRecoveryKey      a typo in the recovery key (checksum mismatch)
    ├── WrongRecoveryKey        a well-formed recovery key that is not this backup's
    ├── BackupCorrupt           a backup blob fails authentication under the right key
    ├── AttachmentTampered      an attachment's ciphertext, size or hash does not match
    └── StoreError              the local store is missing, corrupt or from the future
        └── WrongPassphrase     the passphrase does not open this store

Megolm *message* decryption failures are not raised: ``megolm.decrypt`` returns a
typed failure, because an undecryptable message is an expected state to show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kabar.client.crypto.olm import PendingToDevice


class CryptoError(Exception):
    """Base of every client-side crypto failure."""


class InvalidSignature(CryptoError):
    """A device's identity keys or one-time key are not signed by its Ed25519 key."""


class MalformedPayload(CryptoError):
    """The input is not the JSON shape the protocol defines."""


class MissingOlmSession(CryptoError):
    """Some recipients have no Olm session yet; claim one-time keys for ``devices``."""

    def __init__(self, devices: list[tuple[str, str]]) -> None:
        names = ", ".join(f"{user}/{device}" for user, device in devices)
        super().__init__(f"no Olm session with {names}")
        self.devices = devices


class OlmDecryptionFailed(CryptoError):
    """No Olm session with the sender could decrypt this to-device message."""


class RejectedPayload(CryptoError):
    """The payload decrypted, but its addressing or sender keys must not be trusted."""


class UnknownSenderDevice(RejectedPayload):
    """The sender device is not in the directory. Fetch its keys, then confirm ``pending``.

    The Olm ratchet has already advanced, so the message cannot be decrypted
    again: the decrypted-but-unverified payload travels with the error and is
    released only by ``OlmMachine.confirm``.
    """

    def __init__(self, pending: PendingToDevice) -> None:
        super().__init__(f"unknown sender device {pending.sender}/{pending.sender_device}")
        self.pending = pending


class SessionNeedsRotation(CryptoError):
    """The outbound Megolm session hit its message or age limit before this send."""


class InvalidRecoveryKey(CryptoError):
    """The recovery key text is malformed or has a typo (its checksum fails)."""


class WrongRecoveryKey(CryptoError):
    """The recovery key is well formed but does not open this backup."""


class BackupCorrupt(CryptoError):
    """A backup blob does not authenticate under the (correct) backup key."""


class AttachmentTampered(CryptoError):
    """An attachment's ciphertext, size or plaintext hash does not match its descriptor."""


class StoreError(CryptoError):
    """The local store cannot be used: missing, corrupt, or written by a newer version."""


class WrongPassphrase(StoreError):
    """The passphrase does not unlock this store."""
