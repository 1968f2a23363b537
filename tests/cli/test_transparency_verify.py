"""``kabar transparency verify`` against a real server whose database is then tampered with."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner, Result

from kabar.cli.main import app
from kabar.delivery.transaction import WriteTx
from kabar.moderation.transparency.sth import LogSigningKey
from kabar.store.schema_transparency import transparency_leaves
from support.server import RunningServer
from support.transparency import append_actions


async def kabar(home: Path, *args: str) -> Result:
    env = {"KABAR_HOME": str(home), "COLUMNS": "200"}
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


async def _run_sql(server: RunningServer, *statements: Any) -> None:
    async def job(tx: WriteTx) -> None:
        for statement in statements:
            await tx.conn.execute(statement)

    await server.services.writer.run(job)


async def _leaf(server: RunningServer, seq: int) -> Any:
    async with server.services.database.read() as conn:
        rows = await conn.execute(
            select(transparency_leaves).where(transparency_leaves.c.seq == seq)
        )
        return rows.one()


def _rewrite(entry_text: str) -> str:
    data = json.loads(entry_text)
    data["summary"] = "Nothing happened here."
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


async def test_a_growing_log_verifies_from_checkpoint_to_checkpoint(
    server: RunningServer, tmp_path: Path
) -> None:
    url, saved = server.base_url, tmp_path / "head.json"
    await append_actions(server.services, 5)
    first = await kabar(tmp_path, "transparency", "verify", "-s", url, "--save-head", str(saved))
    assert first.exit_code == 0, first.output
    assert "verified: 5 entries verified" in first.stdout
    assert "trusting the key the server serves" in first.stderr
    assert json.loads(saved.read_text())["head"]["tree_size"] == 5

    await append_actions(server.services, 4)
    args = ("transparency", "verify", "-s", url, "--head", str(saved), "--save-head", str(saved))
    second = await kabar(tmp_path, *args)
    assert second.exit_code == 0, second.output
    assert "9 entries verified; consistent with the saved head of 5" in second.stdout
    assert "trusting" not in second.stderr  # the saved head pinned the key

    result = await kabar(tmp_path, "transparency", "verify", "-s", url, "--json")
    assert json.loads(result.stdout)["ok"] is True
    assert json.loads(result.stdout)["tree_size"] == 9


async def test_the_wrong_key_fails_the_signature(server: RunningServer, tmp_path: Path) -> None:
    await append_actions(server.services, 2)
    other = LogSigningKey.generate().public_key.to_raw_base64()
    result = await kabar(tmp_path, "transparency", "verify", "-s", server.base_url, "--key", other)
    assert result.exit_code == 1
    assert "FAILED (bad_signature)" in result.stdout


@pytest.mark.parametrize(
    ("tamper", "problem", "index"),
    [
        ("alter", "altered", 2),
        ("alter_with_hash", "altered", 2),
        ("reorder", "reordered", 1),
        ("remove", "removed", 3),
        ("truncate", "truncated", 4),
    ],
)
async def test_tampering_with_the_database_is_detected(
    server: RunningServer, tmp_path: Path, tamper: str, problem: str, index: int
) -> None:
    url, saved = server.base_url, tmp_path / "head.json"
    await append_actions(server.services, 6)
    first = await kabar(tmp_path, "transparency", "verify", "-s", url, "--save-head", str(saved))
    assert first.exit_code == 0, first.output
    leaves = transparency_leaves
    match tamper:
        case "alter":
            row = await _leaf(server, 2)
            await _run_sql(
                server,
                update(leaves).where(leaves.c.seq == 2).values(entry=_rewrite(row.entry)),
            )
        case "alter_with_hash":
            from kabar.moderation.transparency.merkle import leaf_hash

            text = _rewrite((await _leaf(server, 2)).entry)
            await _run_sql(
                server,
                update(leaves)
                .where(leaves.c.seq == 2)
                .values(entry=text, leaf_hash=leaf_hash(text.encode())),
            )
        case "reorder":
            one, two = await _leaf(server, 1), await _leaf(server, 2)
            await _run_sql(
                server,
                update(leaves)
                .where(leaves.c.seq == 1)
                .values(entry=two.entry, leaf_hash=two.leaf_hash),
                update(leaves)
                .where(leaves.c.seq == 2)
                .values(entry=one.entry, leaf_hash=one.leaf_hash),
            )
        case "remove":
            await _run_sql(server, delete(leaves).where(leaves.c.seq == 3))
        case "truncate":
            await _run_sql(server, delete(leaves).where(leaves.c.seq >= 4))
    args = ("transparency", "verify", "-s", url, "--head", str(saved), "--json")
    result = await kabar(tmp_path, *args)
    assert result.exit_code == 1, result.output
    verdict = json.loads(result.stdout)
    assert (verdict["ok"], verdict["problem"], verdict["index"]) == (False, problem, index)


async def test_an_unreachable_server_or_bad_checkpoint_cannot_be_checked(tmp_path: Path) -> None:
    result = await kabar(tmp_path, "transparency", "verify", "-s", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "cannot check the log" in result.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = await kabar(tmp_path, "transparency", "verify", "-s", "http://x", "--head", str(bad))
    assert result.exit_code == 2
    assert "cannot read the saved head" in result.stderr
