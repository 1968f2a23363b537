"""Direct and group conversations: membership, roles, opaque end-to-end messages, history."""
