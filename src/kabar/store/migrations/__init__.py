"""Alembic migrations for kabar's schema (both SQLite and PostgreSQL)."""
