"""Wire formats both sides of kabar agree on: canonical JSON, signed key payloads, franking.

The server and the client SDK import this package; it imports neither. See
``docs/e2e.md`` for the protocol these functions implement.
"""
