"""Moderation through Typer's runner: report, queue, act, notices, appeal, decide, role, audit."""

from __future__ import annotations

import json

from kabar.accounts.models import Role
from kabar.cli.demo import MODERATOR, seed_public
from kabar.store import accounts as account_store
from support.api import PASSWORD, Api, unique_name
from support.moderation import article_by, moderator
from support.server import RunningServer
from support.transparency import make_admin


async def _signed_up(terminal, name: str):  # noqa: ANN001, ANN202
    term = terminal(name)
    username = unique_name(name)
    result = await term("register", "--server", term.server, "--username", username)
    assert result.exit_code == 0, result.output
    term.username = username
    return term


async def test_the_whole_flow_from_the_terminal(
    terminal,  # noqa: ANN001
    sqlite_server: RunningServer,
) -> None:
    api = Api(sqlite_server.base_url)
    try:
        boss = await make_admin(api, sqlite_server.services)
        author = await api.login((await api.register()).username)
        article = await article_by(api, author, "# Miracle cure\n\nBuy it.")
        # The admin makes two moderators from the terminal.
        admin = terminal("admin")
        await admin("login", "--server", admin.server, "--username", boss.username)
        mod, other = await _signed_up(terminal, "mod"), await _signed_up(terminal, "other")
        for term in (mod, other):
            made = await admin("admin", "role", f"@{term.username}", "moderator")
            assert made.exit_code == 0, made.output
            assert f"@{term.username} is now moderator" in made.stdout
        reporter = await _signed_up(terminal, "reporter")
        reported = await reporter(
            "report-content", "article", article["id"], "--policy", "misinformation",
            "--note", "dangerous",
        )  # fmt: skip
        assert reported.exit_code == 0, reported.output
        assert "received" in reported.stdout

        listing = await mod("admin", "queue")
        assert listing.exit_code == 0, listing.output
        assert "Miracle cure" in listing.stdout
        cases = await mod.json("admin", "queue")
        case_id = next(c["id"] for c in cases["cases"] if c["target"]["id"] == article["id"])
        shown = await mod("admin", "case", case_id)
        assert "Buy it." in shown.stdout
        assert "dangerous" in shown.stdout
        assert (await mod("admin", "assign", case_id, other.username)).exit_code == 0
        assert (await mod("admin", "note", case_id, "checked the sources")).exit_code == 0
        acted = await mod(
            "admin", "act", case_id, "label", "--policy", "misinformation",
            "--rationale", "Contradicts medical consensus.", "--label", "disputed",
        )  # fmt: skip
        assert acted.exit_code == 0, acted.output
        assert "case closed" in acted.stdout

        owner = terminal("owner")
        await owner("login", "--server", owner.server, "--username", author.username)
        notices = await owner("notices")
        assert notices.exit_code == 0, notices.output
        assert "Contradicts medical consensus." in notices.stdout
        assert "kabar appeal" in notices.stdout
        notice_id = (await owner.json("notices"))["notices"][0]["id"]
        appealed = await owner("appeal", notice_id, "It cites two trials.")
        assert appealed.exit_code == 0, appealed.output

        pending = await other("admin", "appeals")
        assert "It cites two trials." in pending.stdout
        appeal_id = (await other.json("admin", "appeals"))["appeals"][0]["id"]
        refused = await mod(
            "admin", "decide", appeal_id, "--grant", "--rationale", "x", "--json"
        )  # fmt: skip
        assert refused.exit_code == 1
        assert json.loads(refused.stdout)["error"]["code"] == "appeal_conflict"
        granted = await other(
            "admin", "decide", appeal_id, "--grant", "--rationale", "The trials hold up."
        )
        assert granted.exit_code == 0, granted.output
        assert "granted" in granted.stdout
        assert (await api.call("GET", f"/v1/public/articles/{article['id']}"))["label"] is None
        assert "granted" in (await owner("notices")).stdout

        audit = await admin("admin", "audit")
        assert audit.exit_code == 0, audit.output
        for entry in ("appeal.granted", "case.label", "case.note", "case.assign", "account.role"):
            assert entry in audit.stdout
        denied = await mod("admin", "audit", "--json")
        assert json.loads(denied.stdout)["error"]["code"] == "not_an_admin"
    finally:
        await api.close()


async def test_plain_users_are_refused_in_one_line(
    terminal,  # noqa: ANN001
    sqlite_server: RunningServer,
) -> None:
    user = await _signed_up(terminal, "plain")
    result = await user("admin", "queue")
    assert result.exit_code == 1
    assert "moderators" in result.stderr
    bad = await user("report-content", "planet", "x", "--policy", "spam")
    assert bad.exit_code == 1
    assert "target type" in bad.stderr
    assert "no moderation notices" in (await user("notices")).stdout


async def test_the_demo_seeds_a_moderator(api: Api, server: RunningServer) -> None:
    for name in ("alice", "bob", "carol"):
        await api.register(name)
    await seed_public(server.services, PASSWORD)
    async with server.services.database.read() as conn:
        row = await account_store.account_by_username(conn, MODERATOR[0])
    assert row is not None
    assert row.role == "moderator"
    moderator = await api.login(MODERATOR[0])
    assert (await api.call("GET", "/v1/moderation/cases", moderator))["cases"] == []


async def test_a_message_reported_from_the_terminal_opens_a_case_under_its_item(
    terminal,  # noqa: ANN001
    sqlite_server: RunningServer,
) -> None:
    alice, bob = await _signed_up(terminal, "alice"), await _signed_up(terminal, "bob")
    sent = await alice("send", f"@{bob.username}", "pay me or else")
    assert sent.exit_code == 0, sent.output
    [received] = await bob.json("read", f"@{alice.username}")
    reported = await bob.json(
        "report", received["event_id"][:10], "--reason", "extortion", "--policy", "violent_threats"
    )
    assert reported["event_id"] == received["event_id"]
    api = Api(sqlite_server.base_url)
    try:
        mod = await moderator(api, sqlite_server)
        page = await api.call("GET", "/v1/moderation/cases", mod)
        [case] = [c for c in page["cases"] if c["target"]["id"] == received["event_id"]]
        assert case["target"]["type"] == "message"
        assert case["policy_item"] == "violent_threats"
    finally:
        await api.close()


async def test_a_moderator_opens_a_case_from_the_terminal(
    terminal,  # noqa: ANN001
    sqlite_server: RunningServer,
) -> None:
    api = Api(sqlite_server.base_url)
    try:
        author = await api.register()
        article = await article_by(api, author, "# Pills\n\nCheap.")
        mod = await _signed_up(terminal, "opener")
        mod_id = (await api.login(mod.username)).account_id
        await sqlite_server.services.accounts.set_role(mod_id, Role.MODERATOR)
    finally:
        await api.close()
    opened = await mod(
        "admin", "open", "article", article["id"], "--policy", "spam", "--note", "on my rounds"
    )
    assert opened.exit_code == 0, opened.output
    assert "opened case k_" in opened.stdout
    assert "(moderator)" in opened.stdout
    again = await mod.json("admin", "open", "article", article["id"], "--policy", "spam")
    assert again["source"] == "moderator"
    assert again["report_count"] == 2
    assert [r["note"] for r in again["reports"]] == ["on my rounds", None]
    shown = await mod("admin", "case", again["id"])
    assert "on my rounds" in shown.stdout
