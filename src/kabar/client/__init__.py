"""kabar's Python SDK: the client side of the protocol.

Today this holds the end-to-end crypto layer (``kabar.client.crypto``) and the
device's local encrypted store (``kabar.client.store``); the HTTP/WebSocket
transport that drives them comes later. See ``docs/e2e.md``.
"""
