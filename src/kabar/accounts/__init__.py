"""Accounts and devices: registration, login, tokens, passwords, rate limits, authentication."""
