"""Public accounts and their articles: rendering, slugs and handles, feeds, signed authorship.

The modules here are pure (no database, no HTTP); services build on them.
See ``docs/public-accounts.md``.
"""
