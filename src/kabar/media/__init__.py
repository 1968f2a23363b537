"""Media: uploaded images for public pages, and opaque encrypted blobs for private chats.

See ``docs/public-accounts.md`` (image pipeline) and ``docs/e2e.md`` (attachments).
"""
