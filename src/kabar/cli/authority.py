"""``kabar admin authority …``: the register of requests from governments and police.

``add`` records a request as it arrives, ``list`` shows the register, and
``decide`` records what was done. A decided request goes into the public
transparency log at once, or after ``--delay-days`` (docs/moderation.md § 5).
Admins only.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kabar.cli.output import emit_json, id_column, out, run
from kabar.cli.profile import CliError
from kabar.cli.signin import signed_in

PATH = "/v1/admin/authority-requests"
Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
DelayDays = Annotated[
    int | None,
    typer.Option(
        "--delay-days", min=0, max=3650, help="days after the decision before it is public"
    ),
]

authority_app = typer.Typer(
    help="Requests from authorities: record, list, decide (admins).", no_args_is_help=True
)


async def _call(method: str, path: str, **kwargs: Any) -> Any:
    async with signed_in(catch_up=False) as (session, _):
        return await session.http.json(method, path, **kwargs)


def _target(text: str) -> dict[str, str]:
    kind, sep, ref = text.partition(":")
    if not sep or not ref:
        raise CliError(f"--target {text!r}: write TYPE:REF, e.g. public_account:https://…/@x", 2)
    return {"type": kind, "ref": ref}


def _day(text: str) -> int:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--received {text!r}: write a date like 2026-11-20", 2) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M")


def _state(record: dict[str, Any]) -> str:
    if record["status"] == "pending":
        return "pending"
    if record["published"]:
        return f"decided: {record['decision']}, logged #{record['log_seq']}"
    return f"decided: {record['decision']}, public from {_when(record['publish_after'])}"


def _show(record: dict[str, Any]) -> None:
    who = escape(f"{record['requester']} ({record['jurisdiction']})")
    out.print(f"[bold]{record['id']}[/bold]  {who}")
    out.print(f"  received {_when(record['received_at'])} · {escape(_state(record))}")
    out.print(f"  basis: {escape(record['legal_basis'])}")
    out.print(f"  asked: {escape(record['request'])}")
    for target in record["targets"]:
        out.print(f"  target: {target['type']} {escape(target['ref'])}")
    if record["summary"]:
        out.print(f"  summary: {escape(record['summary'])}")


@authority_app.command("add")
def add(
    requester: Annotated[str, typer.Option("--requester", help="who asked, e.g. a police unit")],
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="their country or state")],
    legal_basis: Annotated[str, typer.Option("--legal-basis", help="the law or order cited")],
    request: Annotated[str, typer.Option("--request", help="what was asked, one line")],
    target: Annotated[
        list[str],
        typer.Option("--target", help="TYPE:REF, repeatable (account:@user, article:URL, …)"),
    ],
    received: Annotated[
        str | None, typer.Option("--received", help="when it arrived (ISO date; default now)")
    ] = None,
    delay_days: DelayDays = None,
    json_output: Json = False,
) -> None:
    """Record a request as it arrives."""

    async def work() -> Any:
        body: dict[str, Any] = {
            "requester": requester,
            "jurisdiction": jurisdiction,
            "legal_basis": legal_basis,
            "request": request,
            "targets": [_target(t) for t in target],
            "publish_delay_days": delay_days or 0,
        }
        if received is not None:
            body["received_at"] = _day(received)
        return await _call("POST", PATH, json=body)

    record = run(work, json_output=json_output)
    if json_output:
        emit_json(record)
        return
    out.print(
        f"recorded {record['id']}; decide with: kabar admin authority decide {record['id']} …"
    )


@authority_app.command("list")
def list_requests(
    status: Annotated[str, typer.Option("--status", help="pending, decided or all")] = "all",
    json_output: Json = False,
) -> None:
    """The register, newest first."""
    body = run(lambda: _call("GET", PATH, params={"status": status}), json_output=json_output)
    if json_output:
        emit_json(body)
        return
    records = body["requests"]
    if not records:
        out.print("no authority requests")
        return
    table = Table(id_column("id"), "received", "requester", "targets", "state", box=None)
    for record in records:
        table.add_row(
            record["id"],
            _when(record["received_at"]),
            escape(f"{record['requester']} ({record['jurisdiction']})"),
            str(len(record["targets"])),
            escape(_state(record)),
        )
    out.print(table)


@authority_app.command("show")
def show(
    request_id: Annotated[str, typer.Argument(help="the request's id")], json_output: Json = False
) -> None:
    """One request in full."""
    record = run(lambda: _call("GET", f"{PATH}/{request_id}"), json_output=json_output)
    if json_output:
        emit_json(record)
    else:
        _show(record)


@authority_app.command("decide")
def decide(
    request_id: Annotated[str, typer.Argument(help="the request's id")],
    decision: Annotated[
        str,
        typer.Option(
            "--decision",
            help="no_action, label, remove_content, restrict_publishing, suspend, disclose_data",
        ),
    ],
    policy: Annotated[str, typer.Option("--policy", help="the policy item it falls under")],
    summary: Annotated[str, typer.Option("--summary", help="public rationale; no personal data")],
    actions: Annotated[
        str | None, typer.Option("--actions", help="what was done (internal note)")
    ] = None,
    delay_days: DelayDays = None,
    json_output: Json = False,
) -> None:
    """Record the decision; it is published now or after the delay."""
    body: dict[str, Any] = {"decision": decision, "policy_item": policy, "summary": summary}
    if actions is not None:
        body["actions_taken"] = actions
    if delay_days is not None:
        body["publish_delay_days"] = delay_days
    record = run(lambda: _call("PATCH", f"{PATH}/{request_id}", json=body), json_output=json_output)
    if json_output:
        emit_json(record)
        return
    out.print(f"{record['id']}: {_state(record)}")
