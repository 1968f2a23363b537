"""The event stream: group-commit writer, live hub, sync reads and the WebSocket protocol.

See ``docs/architecture.md`` § The event stream for the invariants this package keeps.
"""
