"""The local store's key hierarchy: passphrase → argon2id → master key → pickle and data keys.

The passphrase goes through argon2id (configurable cost; salt and cost are
stored in the clear beside the store) to a key-encryption key, which unwraps a
random 32-byte master key with AES-256-GCM; a wrong passphrase fails that
unwrap (:class:`WrongPassphrase`). HKDF-SHA256 derives from the master key the
vodozemac pickle key and a data key that seals rows with AES-256-GCM, the row's
table and key as associated data. Changing the passphrase rewraps only the
master key; nothing else is re-encrypted.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kabar.client.crypto.encoding import b64decode, b64encode
from kabar.client.crypto.errors import StoreError, WrongPassphrase

_WRAP_AAD = b"kabar.store.v1 master key"
_NONCE = 12


@dataclass(frozen=True, slots=True)
class KdfParams:
    """argon2id cost. The default matches the server's; tests pass a cheap one."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 2


class Vault:
    """Keys unlocked from a passphrase, and sealing of individual rows."""

    def __init__(self, master_key: bytes) -> None:
        self.pickle_key = _subkey(master_key, b"kabar.store.v1 pickle key")
        self._aes = AESGCM(_subkey(master_key, b"kabar.store.v1 data key"))

    @staticmethod
    def new_master_key() -> bytes:
        return os.urandom(32)

    @staticmethod
    def wrap(master_key: bytes, passphrase: str, kdf: KdfParams) -> dict[str, str]:
        """The public record (cost, salt, wrapped key) to store beside the data."""
        salt, nonce = os.urandom(16), os.urandom(_NONCE)
        kek = _derive_kek(passphrase, salt, kdf)
        wrapped = AESGCM(kek).encrypt(nonce, master_key, _WRAP_AAD)
        return {
            "kdf": json.dumps(dataclasses.asdict(kdf)),
            "salt": b64encode(salt),
            "wrapped_key": b64encode(nonce + wrapped),
        }

    @staticmethod
    def unwrap(record: Mapping[str, str], passphrase: str) -> bytes:
        """The master key; :class:`WrongPassphrase` if ``passphrase`` is not the right one."""
        try:
            kdf = KdfParams(**json.loads(record["kdf"]))
            salt, wrapped = b64decode(record["salt"]), b64decode(record["wrapped_key"])
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError("the store's key record is malformed") from exc
        kek = _derive_kek(passphrase, salt, kdf)
        try:
            return AESGCM(kek).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _WRAP_AAD)
        except InvalidTag as exc:
            raise WrongPassphrase("the passphrase does not unlock this store") from exc

    def seal(self, table: str, row_key: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aes.encrypt(nonce, plaintext, _aad(table, row_key))

    def open(self, table: str, row_key: str, sealed: bytes) -> bytes:
        try:
            return self._aes.decrypt(sealed[:_NONCE], sealed[_NONCE:], _aad(table, row_key))
        except InvalidTag as exc:
            raise StoreError(f"a {table} row fails authentication") from exc


def _aad(table: str, row_key: str) -> bytes:
    return f"{table}\0{row_key}".encode()


def _derive_kek(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    return hash_secret_raw(
        passphrase.encode(),
        salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def _subkey(master_key: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)
