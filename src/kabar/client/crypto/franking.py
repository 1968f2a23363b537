"""Abuse-report material for one decrypted message (message franking, DESIGN §4).

A report reveals exactly one message: its canonical bytes ``M`` and its
franking key ``fk``, plus the event id. The server then checks, with
``kabar.protocol.franking``, that ``HMAC(fk, M)`` equals the commitment stored
with that event and that its own tag over ``commitment ‖ context`` matches, so
it knows the sender really sent ``M`` in that conversation at that time,
without being able to read any other message.

Report body::

    {"event_id": ..., "message": <base64 of M>, "franking_key": <base64 of fk>}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kabar.client.crypto.encoding import b64decode, b64encode
from kabar.client.crypto.errors import MalformedPayload
from kabar.client.crypto.megolm import Decrypted
from kabar.protocol import franking


def report_body(event_id: str, message: bytes, franking_key: bytes) -> dict[str, str]:
    """The body of a franked report for one message."""
    if len(franking_key) != franking.KEY_BYTES:
        raise ValueError("a franking key is 32 bytes")
    return {
        "event_id": event_id,
        "message": b64encode(message),
        "franking_key": b64encode(franking_key),
    }


def report_for(decrypted: Decrypted) -> dict[str, str]:
    """Report material straight from a decryption result."""
    return report_body(decrypted.event_id, decrypted.message, decrypted.franking_key)


def report_opens(body: Mapping[str, Any], envelope: Mapping[str, Any]) -> bool:
    """The commitment half of the server's check, as anyone holding the envelope can do it."""
    try:
        message = b64decode(body.get("message"))
        franking_key = b64decode(body.get("franking_key"), length=franking.KEY_BYTES)
        commitment = b64decode(
            envelope.get("franking_commitment"), length=franking.COMMITMENT_BYTES
        )
    except MalformedPayload:
        return False
    return franking.opens(franking_key, message, commitment)
