"""Control messages between nodes: revocations, account status changes, key-count changes.

These are not stream events (clients never see them); they tell every node to
drop cached state or close connections *now*. They are delivered locally at
once and to other nodes through the broker. A lost control message is bounded
by the auth cache lifetime (``security.auth_cache_seconds``).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from kabar.broker import Broker

log = logging.getLogger(__name__)

CHANNEL = "control"
Handler = Callable[[dict[str, Any]], None]

DEVICES_REVOKED = "devices_revoked"  # data: devices [ids], reason
ACCOUNT_CHANGED = "account_changed"  # data: account_id, status, role
KEYS_CHANGED = "keys_changed"  # data: devices [ids]


class ControlBus:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._node = secrets.token_hex(8)
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)
        broker.subscribe(CHANNEL, self._from_broker)

    def on(self, kind: str, handler: Handler) -> None:
        self._handlers[kind].append(handler)

    def publish(self, kind: str, **data: Any) -> None:
        self._deliver(kind, data)
        if self._broker.distributed:
            message = {"node": self._node, "kind": kind, "data": data}
            self._broker.publish(CHANNEL, json.dumps(message).encode())

    def _from_broker(self, payload: bytes) -> None:
        message = json.loads(payload)
        if message.get("node") != self._node:
            self._deliver(message["kind"], message["data"])

    def _deliver(self, kind: str, data: dict[str, Any]) -> None:
        for handler in self._handlers.get(kind, ()):
            try:
                handler(data)
            except Exception:
                log.exception("control handler for %s failed", kind)
