"""Media for public pages: validating, cleaning and resizing uploads (``images``), storing
the files (``storage``) and recording them (``uploads``).

See ``docs/public-accounts.md`` (image pipeline).
"""
