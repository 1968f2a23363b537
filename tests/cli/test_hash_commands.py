"""``kabar admin hashes import|lists`` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from kabar.accounts.models import Role
from kabar.store import accounts as account_store
from support.api import unique_name
from support.server import RunningServer


async def _admin(terminal, server: RunningServer):  # noqa: ANN001, ANN202
    term = terminal("admin")
    username = unique_name("admin")
    result = await term("register", "--server", term.server, "--username", username)
    assert result.exit_code == 0, result.output
    async with server.services.database.read() as conn:
        row = await account_store.account_by_username(conn, username)
    assert row is not None
    await server.services.accounts.set_role(row.id, Role.ADMIN)
    return term


async def test_import_in_pieces_report_bad_lines_and_list(
    terminal,  # noqa: ANN001
    sqlite_server: RunningServer,
    tmp_path: Path,
    monkeypatch,  # noqa: ANN001
) -> None:
    from kabar.cli import hashes

    monkeypatch.setattr(hashes, "PIECE_ROWS", 7)  # several requests for one file
    admin = await _admin(terminal, sqlite_server)
    lines = ["# provider export", "action,list,value,type"]
    lines += [f"open_case,provider-a,{i:064x},pdq" for i in range(20)]
    lines += [f"auto_remove,known spam,{i:064x},sha256" for i in range(5)]
    lines.insert(5, "open_case,provider-a,xyz,pdq")
    source = tmp_path / "list.csv"
    source.write_text("\n".join(lines) + "\n")

    result = await admin("admin", "hashes", "import", str(source))
    assert result.exit_code == 1  # one line was refused
    assert "imported 25 hashes (0 already listed)" in result.stdout
    assert "known spam (5)" in result.stdout
    assert "provider-a (20)" in result.stdout
    assert "line 6: value for pdq must be 64 hexadecimal characters" in result.stderr
    assert "1 lines refused" in result.stdout

    again = await admin("admin", "hashes", "import", str(source), "--json")
    totals = json.loads(again.stdout)
    assert (totals["imported"], totals["duplicates"], totals["refused"]) == (0, 25, 1)

    listing = await admin.json("admin", "hashes", "lists")
    assert {(i["name"], i["entries"]) for i in listing["lists"]} == {
        ("provider-a", 20),
        ("known spam", 5),
    }
    table = await admin("admin", "hashes", "lists")
    assert "provider-a" in table.stdout


async def test_a_file_without_a_header_is_refused(
    terminal,  # noqa: ANN001
    sqlite_server: RunningServer,
    tmp_path: Path,
) -> None:
    admin = await _admin(terminal, sqlite_server)
    source = tmp_path / "bad.csv"
    source.write_text(f"pdq,{'a' * 64},x,open_case\n")
    result = await admin("admin", "hashes", "import", str(source))
    assert result.exit_code == 1
    assert "the first line must be the header" in result.stderr
    listing = await admin.json("admin", "hashes", "lists")
    assert listing["lists"] == []
