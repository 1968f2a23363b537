"""The HTTP and WebSocket interface: FastAPI routers per area, problem documents, pages.

Routers parse and authenticate, call one service method, and render. They never
touch the database.
"""
