"""The public-accounts CLI through Typer's runner: create, publish (signed), edit, verify
(also tampered, also logged out), read, drafts, scheduling, members, subscriptions, the
feed and its pages, explore; JSON output and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy

from kabar.delivery.transaction import WriteTx
from kabar.store.schema import articles
from support.api import unique_name
from support.public import unique_handle
from support.server import RunningServer

ARTICLE = "# Night ferry returns\n\nFrom *June*, the night ferry runs again.\r\n\n- Fridays\n"


async def _account(terminal, name: str):  # noqa: ANN001, ANN202
    term = terminal(name)
    username = unique_name(name)
    result = await term("register", "--server", term.server, "--username", username)
    assert result.exit_code == 0, result.output
    return term, username


async def _publisher(terminal, tmp_path: Path):  # noqa: ANN001, ANN202
    editor, editor_name = await _account(terminal, "editor")
    handle = unique_handle("harbour")
    created = await editor.json(
        "public", "create", f"@{handle}", "--name", "Harbour Post", "--kind", "media"
    )
    assert (created["handle"], created["kind"], created["my_role"]) == (handle, "media", "owner")
    return editor, editor_name, handle


def _file(tmp_path: Path, text: str, name: str = "article.md") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


async def test_publish_edit_read_and_verify_an_article(
    terminal,  # noqa: ANN001
    tmp_path: Path,
    sqlite_server: RunningServer,
) -> None:
    editor, editor_name, handle = await _publisher(terminal, tmp_path)
    source = _file(tmp_path, ARTICLE)
    first = await editor.json("publish", f"@{handle}", str(source))
    assert (first["status"], first["revision"], first["title"]) == (
        "published",
        1,
        "Night ferry returns",
    )
    assert first["signature"]["account"] == editor_name
    slug = first["slug"]
    url = f"{editor.server}/@{handle}/{slug}"  # the test server's public_url is another port
    edited = _file(tmp_path, ARTICLE.replace("June", "July"))
    second = await editor(
        "publish", handle, str(edited), "--slug", slug, "--title", "Night ferry returns in July"
    )
    assert second.exit_code == 0, second.output
    assert f"published revision 2 of @{handle}/{slug}" in second.stdout

    stranger = terminal("stranger")  # never logged in: the URL says which server
    checked = await stranger("verify-article", url)
    assert checked.exit_code == 0, checked.output
    assert "OK" in checked.stdout
    assert f"signed by @{editor_name} with device" in checked.stdout
    assert "not checked against the key directory" in checked.stdout
    old = await stranger.json("verify-article", f"{url}/history?revision=1")
    assert (old["ok"], old["revision"], old["title"]) == (True, 1, "Night ferry returns")

    reader, _ = await _account(terminal, "reader")
    listed = await reader("verify-article", url)
    assert listed.exit_code == 0, listed.output
    assert "the key directory lists it for that device" in listed.stdout
    page = await reader("read-article", f"@{handle}/{slug}", "--history")
    assert page.exit_code == 0, page.output
    assert "Night ferry returns in July" in page.stdout
    assert f"✓ signed by @{editor_name}'s device" in page.stdout
    assert "From July, the night ferry runs again." in page.stdout
    assert "2: Night ferry returns in July" in page.stdout
    assert "1: Night ferry returns —" in page.stdout
    raw = await stranger("read-article", url, "--raw")
    assert raw.stdout_bytes == edited.read_bytes()  # byte for byte, as signed
    as_json = await stranger.json("read-article", url)
    assert as_json["verification"]["ok"] is True
    assert as_json["article"]["markdown"] == ARTICLE.replace("June", "July")

    async def tamper(tx: WriteTx) -> None:
        await tx.conn.execute(
            sqlalchemy.update(articles)
            .where(articles.c.id == first["id"])
            .values(markdown=ARTICLE.replace("June", "January"))
        )

    await sqlite_server.services.writer.run(tamper)
    failed = await stranger("verify-article", url)
    assert failed.exit_code == 1
    assert "FAILED" in failed.stdout
    assert "the signature does not match the text, title or author shown" in failed.stdout
    failed_json = await stranger("verify-article", url, "--json")
    assert failed_json.exit_code == 1
    assert json.loads(failed_json.stdout)["ok"] is False
    shown = await stranger("read-article", url)
    assert "signature check FAILED" in shown.stdout


async def test_drafts_scheduling_members_and_mistakes(terminal, tmp_path: Path) -> None:  # noqa: ANN001
    editor, editor_name, handle = await _publisher(terminal, tmp_path)
    helper, helper_name = await _account(terminal, "helper")
    source = _file(tmp_path, "# Budget notes\n\nNot ready.\n")
    saved = await editor.json("publish", f"@{handle}", str(source), "--draft")
    assert (saved["status"], saved["revision"]) == ("draft", 0)
    [listed] = await editor.json("drafts", f"@{handle}")
    assert listed["slug"] == saved["slug"]

    members = await editor.json("public", "add", f"@{handle}", f"@{helper_name}")
    assert {(m["username"], m["role"]) for m in members} == {
        (editor_name, "owner"),
        (helper_name, "editor"),
    }
    scheduled = await helper("publish", handle, str(source), "--slug", saved["slug"], "--at", "+2h")
    assert scheduled.exit_code == 0, scheduled.output
    assert f"scheduled @{handle}/{saved['slug']} for" in scheduled.stdout
    cancelled = await helper("unpublish", f"@{handle}", saved["slug"])
    assert cancelled.exit_code == 0, cancelled.output
    assert "cancelled the scheduled publication" in cancelled.stdout
    removed = await editor("public", "remove", handle, helper_name)
    assert removed.exit_code == 0, removed.output
    [only] = await editor.json("public", "members", handle)
    assert only["username"] == editor_name
    [mine] = await editor.json("public", "list")
    assert mine["handle"] == handle
    edited = await editor.json("public", "edit", handle, "--bio", "Ferries and harbour news")
    assert edited["bio"] == "Ferries and harbour news"
    shown = await terminal("anyone")("public", "show", f"@{handle}", "--server", editor.server)
    assert shown.exit_code == 0, shown.output
    assert "Harbour Post" in shown.stdout
    assert "Ferries and harbour news" in shown.stdout

    for args, message in (
        (("publish", handle, str(source), "--at", "tomorrow"), "--at 'tomorrow': give an ISO"),
        (("publish", handle, str(tmp_path / "missing.md")), "No such file or directory"),
        (("publish", handle, str(source)), "only the account's owners and editors"),
        (("unpublish", handle, "no-such-article"), "no such article"),
        (("verify-article", "not a url"), "is not an article URL or @handle/slug"),
        (("public", "create", "@x", "--name", "Too short"), "a handle is 3–30 of a-z"),
    ):
        result = await helper(*args)
        assert result.exit_code == 1, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert message in result.stderr
    refused = await helper("publish", handle, str(source), "--json")
    assert json.loads(refused.stdout)["error"]["code"] == "not_an_editor"


async def test_subscribe_feed_pages_and_explore(terminal, tmp_path: Path) -> None:  # noqa: ANN001
    editor, _, handle = await _publisher(terminal, tmp_path)
    reader, _ = await _account(terminal, "reader")
    subscribed = await reader("subscribe", f"@{handle}")
    assert subscribed.exit_code == 0, subscribed.output
    assert "new articles arrive live: kabar feed --follow" in subscribed.stdout
    titles = [f"Tide table {n} for the outer harbour" for n in range(3)]
    for number, title in enumerate(titles):
        source = _file(tmp_path, f"# {title}\n\nLow water at {number} o'clock.\n", f"{number}.md")
        assert (await editor("publish", handle, str(source))).exit_code == 0
    first = await reader.json("feed", "-n", "2")
    assert [a["title"] for a in first["articles"]] == titles[::-1][:2]
    assert first["next_cursor"]
    more = await reader.json("feed", "--more", "-n", "2")
    assert [a["title"] for a in more["articles"]] == titles[:1]
    assert more["next_cursor"] is None
    done = await reader("feed", "--more")
    assert "nothing more" in done.stdout
    shown = await reader("feed")
    assert titles[2] in shown.stdout
    assert f"kabar read-article @{handle}/" in shown.stdout

    anyone = terminal("anyone")
    found = await anyone.json("explore", "outer harbour tide", "--server", editor.server)
    assert {a["title"] for a in found["articles"]} == set(titles)
    accounts = await anyone("explore", "Harbour Post", "--server", editor.server)
    assert f"@{handle}" in accounts.stdout

    quiet = await reader.json("subscribe", handle, "--no-notify")
    assert (quiet["subscribed"], quiet["notifications"]) == (True, False)
    left = await reader("unsubscribe", f"@{handle}")
    assert left.exit_code == 0, left.output
    assert (await reader.json("feed"))["articles"] == []
