"""Moderation (DESIGN §6): policy as data, hash matching and the transparency log.

This package holds the pure core — no database, no HTTP. See ``docs/moderation.md``.
"""
