"""``kabar admin authority add|list|show|decide`` through Typer's runner."""

from __future__ import annotations

import json

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


async def test_record_list_and_decide_a_request(
    terminal,  # noqa: ANN001
    sqlite_server: RunningServer,
) -> None:
    admin = await _admin(terminal, sqlite_server)
    added = await admin.json(
        "admin", "authority", "add",
        "--requester", "Example City Police",
        "--jurisdiction", "Exampleland",
        "--legal-basis", "Example Act §12",
        "--request", "Remove the public account @someone.",
        "--target", "public_account:https://kabar.example/@someone",
        "--received", "2026-11-20",
        "--delay-days", "7",
    )  # fmt: skip
    assert added["status"] == "pending"
    assert added["publish_delay_days"] == 7

    listing = await admin("admin", "authority", "list")
    assert listing.exit_code == 0, listing.output
    assert added["id"] in listing.stdout
    assert "pending" in listing.stdout

    decided = await admin(
        "admin", "authority", "decide", added["id"],
        "--decision", "no_action", "--policy", "violent_threats",
        "--summary", "No violation found.", "--actions", "Reviewed the account.",
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    assert "decided: no_action, public from" in decided.stdout

    shown = await admin.json("admin", "authority", "show", added["id"])
    assert shown["published"] is False
    assert shown["actions_taken"] == "Reviewed the account."
    pending = await admin.json("admin", "authority", "list", "--status", "pending")
    assert pending["requests"] == []


async def test_mistakes_are_one_line(
    terminal,  # noqa: ANN001
    sqlite_server: RunningServer,
) -> None:
    admin = await _admin(terminal, sqlite_server)
    result = await admin(
        "admin", "authority", "add", "--requester", "X", "--jurisdiction", "Y",
        "--legal-basis", "Z", "--request", "W", "--target", "nonsense",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "write TYPE:REF" in result.stderr
    result = await admin("admin", "authority", "decide", "g_nope", "--decision", "no_action",
                         "--policy", "spam", "--summary", "s", "--json")  # fmt: skip
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "authority_request_not_found"

    user = terminal("plain")
    await user("register", "--server", user.server, "--username", unique_name("plain"))
    result = await user("admin", "authority", "list")
    assert result.exit_code == 1
    assert "only an administrator" in result.stderr
