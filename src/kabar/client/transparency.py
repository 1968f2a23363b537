"""Fetching a server's transparency log for an audit (``kabar transparency verify``).

:func:`fetch_log` downloads the current signed tree head, every entry under it
(page by page) and the consistency proof from a saved size; ``verify_log``
(``kabar.moderation.transparency.verify``) then decides. Pages are cut at the
fetched head's size, so entries appended while we download do not disturb the
audit: it checks the log exactly as of that head.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kabar.client.errors import ClientError
from kabar.client.http import HttpTransport
from kabar.errors import InvalidRequest
from kabar.moderation.transparency.encoding import b64decode
from kabar.moderation.transparency.merkle import HASH_SIZE
from kabar.moderation.transparency.sth import LogPublicKey, SignedTreeHead

PAGE = 1000


class LogFormatError(ClientError):
    """The server's answer is not shaped like a transparency log."""


@dataclass(frozen=True, slots=True)
class FetchedLog:
    head: SignedTreeHead
    entries: list[Mapping[str, Any]]
    consistency: list[bytes]


async def fetch_key(http: HttpTransport) -> LogPublicKey:
    body = await http.json("GET", "/transparency/key", retry=True)
    try:
        return LogPublicKey.from_raw_base64(body["public_key"])
    except (KeyError, TypeError, InvalidRequest) as exc:
        raise LogFormatError(f"the server's log key is malformed: {exc}") from None


async def fetch_log(http: HttpTransport, saved_size: int | None) -> FetchedLog:
    """The current head, its entries ``[0, size)`` and the proof from ``saved_size``."""
    body = await http.json("GET", "/transparency/log/head", retry=True)
    try:
        head = SignedTreeHead.from_json(body["head"])
    except (KeyError, TypeError, InvalidRequest) as exc:
        raise LogFormatError(f"the server's tree head is malformed: {exc}") from None
    size = head.head.tree_size
    entries: list[Mapping[str, Any]] = []
    while len(entries) < size:
        params = {"start": len(entries), "limit": min(PAGE, size - len(entries))}
        page = await http.json("GET", "/transparency/log", params=params, retry=True)
        served = page.get("entries") if isinstance(page, Mapping) else None
        if not isinstance(served, list):
            raise LogFormatError("the server's log page has no entries list")
        # Only what verify_log reads; the proofs in each page are against that page's head.
        batch = [
            {k: e[k] for k in ("entry", "leaf_hash") if k in e}
            for e in served
            if isinstance(e, Mapping)
        ]
        if not batch:
            break  # fewer entries than the head counts: verify_log reports it
        entries.extend(batch[: size - len(entries)])
    proof: list[bytes] = []
    if saved_size is not None and 0 < saved_size <= size:
        params = {"from": saved_size, "to": size}
        body = await http.json("GET", "/transparency/log/consistency", params=params, retry=True)
        try:
            proof = [b64decode(h, field="proof", length=HASH_SIZE) for h in body["proof"]]
        except (KeyError, TypeError, InvalidRequest) as exc:
            raise LogFormatError(f"the consistency proof is malformed: {exc}") from None
    return FetchedLog(head, entries, proof)
