"""The chat CLI through Typer's runner: every command, JSON output, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from support.api import unique_name


def _exists(path: str) -> bool:
    return Path(path).exists()


def _text(path: str) -> str:
    return Path(path).read_text()


async def _account(terminal, name: str):  # noqa: ANN001, ANN202
    term = terminal(name)
    username = unique_name(name)
    result = await term("register", "--server", term.server, "--username", username)
    assert result.exit_code == 0, result.output
    return term, username


async def test_register_shows_the_recovery_key_once_and_remembers_the_server(terminal) -> None:  # noqa: ANN001
    term = terminal("alice")
    username = unique_name("alice")
    result = await term("register", "--server", term.server, "--username", username, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["username"] == username
    assert len(body["recovery_key"].split()) == 14
    config = json.loads((term.home / "config.json").read_text())
    assert config["server"] == term.server
    assert config["username"] == username
    assert _exists(config["store"])
    assert "access_token" not in (term.home / "config.json").read_text()
    again = await term("register", "--username", unique_name("x"))
    assert again.exit_code == 1
    assert "already logged in" in again.stderr


async def test_send_read_chats_and_search_between_two_terminals(terminal) -> None:  # noqa: ANN001
    alice, alice_name = await _account(terminal, "alice")
    bob, bob_name = await _account(terminal, "bob")
    sent = await alice("send", f"@{bob_name}", "meet at the lighthouse at noon")
    assert sent.exit_code == 0, sent.output
    read = await bob("read", f"@{alice_name}")
    assert read.exit_code == 0, read.output
    assert "meet at the lighthouse at noon" in read.stdout
    [message] = await bob.json("read", f"@{alice_name}")
    assert message["sender"] == alice_name
    assert message["object"] == "Message"
    chats = await bob.json("chats")
    assert [c["name"] for c in chats] == [f"@{alice_name}"]
    assert chats[0]["last"]["body"] == "meet at the lighthouse at noon"
    [hit] = await bob.json("search", "lighthouse")
    assert hit["event_id"] == message["event_id"]
    reply = await bob("send", f"@{alice_name}", "see you there")
    assert reply.exit_code == 0
    texts = [m["body"] for m in await alice.json("read", f"@{bob_name}")]
    assert texts == ["meet at the lighthouse at noon", "see you there"]


async def test_groups_files_reports_and_verification(terminal, tmp_path: Path) -> None:  # noqa: ANN001
    alice, _ = await _account(terminal, "alice")
    bob, bob_name = await _account(terminal, "bob")
    carol, carol_name = await _account(terminal, "carol")
    created = await alice.json("group", "create", "Trip planning", f"@{bob_name}")
    assert created["title"] == "Trip planning"
    assert (await alice.json("group", "add", "trip", f"@{carol_name}"))["added"] == [carol_name]
    notes = tmp_path / "packing list.txt"
    notes.write_text("tent, stove, maps\n")
    sent = await alice.json("send", "Trip planning", "the list", "--file", str(notes))
    [attachment] = sent["content"]["attachments"]
    assert attachment["name"] == "packing list.txt"
    [received] = await carol.json("read", "Trip planning")
    saved = await carol.json("download", received["event_id"][:10], "--out", str(tmp_path / "dl"))
    assert _text(saved["saved"][0]) == "tent, stove, maps\n"
    report = await carol.json("report", received["event_id"][:10], "--reason", "test")
    assert report["event_id"] == received["event_id"]
    removed = await alice("group", "remove", "Trip planning", f"@{carol_name}")
    assert removed.exit_code == 0, removed.output
    await alice.json("send", "Trip planning", "carol cannot read this")
    gone = await carol("read", "Trip planning")
    assert gone.exit_code == 1
    assert "carol cannot read this" not in gone.output
    texts = [m["body"] for m in await bob.json("read", "trip")]
    assert texts == ["the list", "carol cannot read this"]
    number = await alice.json("verify", f"@{bob_name}", "--confirm")
    assert number["verified"] is True
    assert len(number["number"].split()) == 12
    left = await bob("group", "leave", "trip")
    assert left.exit_code == 0, left.output


async def test_devices_are_listed_and_revoked_and_logout_forgets_the_device(terminal) -> None:  # noqa: ANN001
    laptop, name = await _account(terminal, "dora")
    phone = terminal("dora-phone")
    logged_in = await phone("login", "--server", phone.server, "--username", name)
    assert logged_in.exit_code == 0, logged_in.output
    devices = await laptop.json("devices")
    assert len(devices) == 2
    [other] = [d for d in devices if not d["current"]]
    assert (await laptop.json("devices", "revoke", other["device_id"]))["revoked"]
    signed_out = await phone("chats")
    assert signed_out.exit_code == 1
    assert "error:" in signed_out.stderr
    logout = await laptop("logout")
    assert logout.exit_code == 0, logout.output
    assert not list((laptop.home / "devices").glob("*.db"))
    after = await laptop("chats")
    assert after.exit_code == 2
    assert "not logged in" in after.stderr


async def test_every_mistake_is_one_line_without_a_traceback(terminal) -> None:  # noqa: ANN001
    alice, _ = await _account(terminal, "alice")
    cases = [
        (await alice("read", "no such chat"), "no chat called"),
        (await alice("send", "@no_such_user_here", "hi"), "no such account"),
        (await alice("send", "@x"), "say something"),
        (await alice("report", "e_zzzz"), "no message"),
        (await alice("chats", KABAR_PASSPHRASE="wrong"), "wrong passphrase"),
        (await terminal("nobody")("chats"), "not logged in"),
        (
            await terminal("lost")("login", "--server", "http://127.0.0.1:9", "-u", "someone"),
            "is the server running",
        ),
        (
            await terminal("typo")("login", "--server", "127.0.0.1:8000", "-u", "someone"),
            "must start with http",
        ),
        (
            await terminal("intruder")(
                "login", "--server", alice.server, "-u", "alice_nobody", KABAR_PASSWORD="nope"
            ),
            "wrong username or password",
        ),
    ]
    for result, expected in cases:
        assert result.exit_code != 0
        assert expected in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output
    failed = await alice("read", "no such chat", "--json")
    assert json.loads(failed.stdout)["error"]["code"] == "not_found"


async def test_login_with_the_recovery_key_reads_old_messages(terminal) -> None:  # noqa: ANN001
    laptop = terminal("erin")
    name = unique_name("erin")
    registered = await laptop.json("register", "--server", laptop.server, "--username", name)
    friend, friend_name = await _account(terminal, "frank")
    assert (await friend("send", f"@{name}", "an old message")).exit_code == 0
    assert (await laptop("chats")).exit_code == 0  # the laptop gets the key and backs it up
    phone = terminal("erin-phone")
    login = await phone(
        "login", "-s", phone.server, "-u", name, KABAR_RECOVERY_KEY=registered["recovery_key"]
    )
    assert login.exit_code == 0, login.output
    assert [m["body"] for m in await phone.json("read", f"@{friend_name}")] == ["an old message"]
    tablet = terminal("erin-tablet")
    wrong = await tablet("login", "-s", tablet.server, "-u", name, KABAR_RECOVERY_KEY="0" * 56)
    assert wrong.exit_code == 0  # logged in; the backup can be restored later
    assert "kabar backup restore" in wrong.stderr
    restored = await tablet.json("backup", "restore", registered["recovery_key"])
    assert restored["restored_sessions"] >= 1
    assert [m["body"] for m in await tablet.json("read", f"@{friend_name}")] == ["an old message"]


async def test_a_message_deleted_for_everyone_disappears_from_both_terminals(terminal) -> None:  # noqa: ANN001
    alice, alice_name = await _account(terminal, "alice")
    bob, bob_name = await _account(terminal, "bob")
    await alice("send", f"@{bob_name}", "typo in the address")
    await alice("send", f"@{bob_name}", "the right address is 12 Quay Street")
    [first, _second] = await bob.json("read", f"@{alice_name}")
    deleted = await alice("delete", first["event_id"][:10])
    assert deleted.exit_code == 0, deleted.output
    assert "for everyone" in deleted.stdout
    remaining = [m["body"] for m in await bob.json("read", f"@{alice_name}")]
    assert remaining == ["the right address is 12 Quay Street"]
    assert await bob.json("search", "typo") == []
    refused = await bob("delete", first["event_id"][:10])
    assert refused.exit_code != 0
