"""``kabar admin hashes import FILE.csv`` and ``kabar admin hashes lists`` (admins).

``import`` reads the file line by line with the same parser the server uses
(``kabar.moderation.hashlists``), shows a progress bar over the file's bytes,
reports every refused line on stderr, and sends the good rows in pieces that
stay under the server's request size limit. Exit status: 0 when every line was
imported (or already listed), 1 when some lines were refused or the import failed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kabar.cli.output import emit_json, err, out, run
from kabar.cli.profile import CliError
from kabar.cli.signin import signed_in
from kabar.moderation.hashlists import COLUMNS, HashListError, parse_hash_list

PATH = "/v1/admin/hash-lists"
PIECE_ROWS = 5000  # about 500 KB of CSV: well under limits.request_max_bytes
ERRORS_SHOWN = 20
Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]

hashes_app = typer.Typer(help="Hash lists matched against public uploads.", no_args_is_help=True)


def _piece(rows: list[tuple[str, str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode()


@hashes_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV with type,value,list,action", exists=True)],
    json_output: Json = False,
) -> None:
    """Import a hash list (idempotent: hashes already listed are skipped)."""
    size = file.stat().st_size
    totals: dict[str, Any] = {"imported": 0, "duplicates": 0, "refused": 0, "lists": {}}

    async def send(session: Any, rows: list[tuple[str, str, str, str]]) -> None:
        body = await session.http.json("POST", f"{PATH}/import", content=_piece(rows))
        totals["imported"] += body["imported"]
        totals["duplicates"] += body["duplicates"]
        totals["refused"] += body["refused"]
        for info in body["lists"]:
            totals["lists"][info["name"]] = info

    async def work() -> None:
        progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=json_output or not err.is_terminal,
        )
        async with signed_in(catch_up=False) as (session, _):
            with progress, file.open("rb") as lines:
                task = progress.add_task("import", total=size)
                rows: list[tuple[str, str, str, str]] = []
                for item in parse_hash_list(lines):
                    progress.update(task, completed=item.offset)
                    if isinstance(item, HashListError):
                        totals["refused"] += 1
                        if totals["refused"] <= ERRORS_SHOWN:
                            err.print(f"[yellow]{escape(str(item))}[/yellow]")
                        if "header" in item.message and not rows:
                            raise CliError(f"{file}: {item}")
                        continue
                    listed = item.hash
                    rows.append((listed.type, listed.value, listed.list, listed.action))
                    if len(rows) >= PIECE_ROWS:
                        await send(session, rows)
                        rows = []
                if rows:
                    await send(session, rows)
                progress.update(task, completed=size)

    run(work, json_output=json_output)
    if json_output:
        emit_json({**totals, "lists": list(totals["lists"].values())})
    else:
        names = ", ".join(
            f"{escape(name)} ({info['entries']})" for name, info in sorted(totals["lists"].items())
        )
        out.print(
            f"imported {totals['imported']} hashes ({totals['duplicates']} already listed)"
            + (f" into {names}" if names else "")
        )
        if totals["refused"]:
            more = totals["refused"] - ERRORS_SHOWN
            out.print(
                f"[yellow]{totals['refused']} lines refused[/yellow]"
                + (f" ({more} not shown)" if more > 0 else "")
            )
    if totals["refused"]:
        raise typer.Exit(1)


@hashes_app.command("lists")
def lists(json_output: Json = False) -> None:
    """The imported lists and their sizes."""

    async def work() -> Any:
        async with signed_in(catch_up=False) as (session, _):
            return await session.http.json("GET", PATH)

    body = run(work, json_output=json_output)
    if json_output:
        emit_json(body)
        return
    if not body["lists"]:
        out.print("no hash lists imported")
        return
    table = Table("list", "action", "entries", "enabled", box=None)
    for info in body["lists"]:
        table.add_row(
            escape(info["name"]),
            info["action"],
            str(info["entries"]),
            "yes" if info["enabled"] else "no",
        )
    out.print(table)
