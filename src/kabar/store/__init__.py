"""Storage: the schema, the two database engines (SQLite, PostgreSQL) and the queries.

Nothing here imports a service. See ``docs/architecture.md`` § Storage.
"""
