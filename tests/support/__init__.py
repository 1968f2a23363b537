"""Test helpers: databases on SQLite and PostgreSQL, in-process and subprocess servers, an API client."""
