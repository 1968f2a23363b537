"""Brokers carry committed events between nodes: a fast path, never the source of truth."""

from kabar.broker.base import Broker, Handler, open_broker

__all__ = ["Broker", "Handler", "open_broker"]
