"""Test helpers: SQLite and PostgreSQL databases, in-process and subprocess servers, a client."""
