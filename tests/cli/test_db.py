"""`kabar db`: upgrade, current and backup through Typer's runner."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from kabar.cli.main import app


def test_upgrade_current_and_backup_a_sqlite_database(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"KABAR_DATABASE_URL": f"sqlite:///{tmp_path / 'kabar.db'}"}
    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    current = runner.invoke(app, ["db", "current"], env=env)
    assert "current" in current.output
    copy = tmp_path / "copy.db"
    backup = runner.invoke(app, ["db", "backup", str(copy)], env=env)
    assert backup.exit_code == 0, backup.output
    tables = {r[0] for r in sqlite3.connect(copy).execute("SELECT name FROM sqlite_master")}
    assert {"events", "accounts", "alembic_version"} <= tables
    again = runner.invoke(app, ["db", "backup", str(copy)], env=env)
    assert again.exit_code == 2
    assert "exists" in again.output


def test_backup_refuses_postgresql_with_a_clear_line(tmp_path: Path) -> None:
    env = {"KABAR_DATABASE_URL": "postgresql://u@127.0.0.1:1/x"}
    result = CliRunner().invoke(app, ["db", "backup", str(tmp_path / "x.db")], env=env)
    assert result.exit_code == 2
    assert "pg_dump" in result.output
