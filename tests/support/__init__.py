"""Test helpers: databases (SQLite, PostgreSQL), servers in and out of process, an API client."""
