"""Media uploads: validating, cleaning and resizing what users upload for public pages.

See ``docs/public-accounts.md`` (image pipeline).
"""
