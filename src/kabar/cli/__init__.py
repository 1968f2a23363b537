"""The ``kabar`` command: server operation (serve, demo, db) and the end-to-end chat client."""
