"""Media: images for public pages — validated, cleaned and resized (``images``), stored
(``storage``) and recorded (``uploads``) — and opaque encrypted blobs for private chats
(``blobs``).

See ``docs/public-accounts.md`` (image pipeline) and ``docs/e2e.md`` (attachments).
"""
