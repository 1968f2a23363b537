"""The ``kabar`` command: server operation (serve, demo, db, admin) and, later, the chat client."""
