"""The public, append-only transparency log of moderation (DESIGN §6).

* ``merkle``   — RFC 9162 §2.1 hashing, tree roots, proofs and their verification.
* ``frontier`` — the O(log n) incremental state a database keeps to append and sign.
* ``storage``  — proofs for a tree whose hashes live in a database.
* ``sth``      — signed tree heads and the log's Ed25519 key.
* ``entries``  — what one log entry says, and its canonical leaf bytes.
* ``verify``   — a client-side audit of a fetched log against a saved tree head.
* ``encoding`` — the strict base64 the log uses for bytes in JSON.

See ``docs/moderation.md``.
"""
