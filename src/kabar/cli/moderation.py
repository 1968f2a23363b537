"""Moderation from the terminal: notices and appeals, reporting content, and the moderators'
``kabar admin queue|case|open|assign|note|act|appeals|decide|role|audit``.

Every command is a thin client of the HTTP API (docs/api.md § moderation), so
what it may do is what the signed-in account's role allows.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kabar.cli.output import emit_json, out, run
from kabar.cli.signin import signed_in

Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Policy = Annotated[str, typer.Option("--policy", help="the policy item, e.g. spam")]
CaseId = Annotated[str, typer.Argument(help="the case id (k_…)")]


async def _call(method: str, path: str, **kwargs: Any) -> Any:
    async with signed_in(catch_up=False) as (session, _):
        return await session.http.json(method, path, **kwargs)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M")


def _done(json_output: bool, value: Any, text: str) -> None:
    if json_output:
        emit_json(value)
    else:
        out.print(text)


# -- everyone ---------------------------------------------------------------------------------


def notices(json_output: Json = False) -> None:
    """Moderation notices about your content or account, and how to appeal them."""
    body = run(lambda: _call("GET", "/v1/notices"), json_output=json_output)
    if json_output:
        emit_json(body)
        return
    if not body["notices"]:
        out.print("no moderation notices")
        return
    for notice in body["notices"]:
        item = notice["policy_item"]
        target = notice["target"]
        appeal = notice["appeal"]
        out.print(
            f"[bold]{notice['id']}[/bold]  {_when(notice['created_at'])}  "
            f"{notice['action'].replace('_', ' ')} · {escape(target['label'])}"
        )
        out.print(f"  rule: {escape(item['title'])} ({item['id']})")
        out.print(f"  why: {escape(notice['rationale'])}")
        if notice["label"]:
            out.print(f"  label: {escape(notice['label'])}")
        if notice["duration_days"]:
            out.print(f"  for {notice['duration_days']} days")
        if appeal["status"] == "none":
            out.print(
                f"  appeal until {_when(appeal['deadline'])}: "
                f'kabar appeal {notice["id"]} "why it was wrong"'
            )
        else:
            decided = f", {escape(appeal['rationale'])}" if appeal["rationale"] else ""
            out.print(f"  appeal: {appeal['status']}{decided}")


def appeal(
    notice: Annotated[str, typer.Argument(help="the notice id (y_…)")],
    statement: Annotated[str, typer.Argument(help="why the decision was wrong")],
    json_output: Json = False,
) -> None:
    """Appeal a moderation decision (once, within 30 days); another moderator decides."""
    result = run(
        lambda: _call("POST", f"/v1/notices/{notice}/appeal", json={"statement": statement}),
        json_output=json_output,
    )
    _done(json_output, result, f"appeal {result['id']} filed; a moderator will decide it")


def report_content(
    kind: Annotated[str, typer.Argument(help="article, comment, public_account or account")],
    target: Annotated[str, typer.Argument(help="its id (or @handle / @username)")],
    policy: Policy,
    note: Annotated[
        str | None, typer.Option("--note", help="what is wrong, for moderators")
    ] = None,
    json_output: Json = False,
) -> None:
    """Report public content or an account to the moderators (its owner never learns who)."""
    body: dict[str, Any] = {"target": {"type": kind, "id": target}, "policy_item": policy}
    if note:
        body["note"] = note
    result = run(
        lambda: _call("POST", "/v1/moderation/reports", json=body), json_output=json_output
    )
    _done(json_output, result, f"report {result['report_id']} received")


# -- moderators -------------------------------------------------------------------------------


def queue(
    status: Annotated[str, typer.Option("--status", help="open, closed or all")] = "open",
    assigned: Annotated[
        str | None, typer.Option("--assigned", help="a moderator's username, or me")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 50,
    json_output: Json = False,
) -> None:
    """The moderation queue: most severe first, then oldest."""
    params: dict[str, Any] = {"status": status, "limit": limit}
    if assigned:
        params["assigned"] = assigned
    body = run(lambda: _call("GET", "/v1/moderation/cases", params=params), json_output=json_output)
    if json_output:
        emit_json(body)
        return
    if not body["cases"]:
        out.print("the queue is empty")
        return
    table = Table("case", "sev", "item", "target", "reports", "assignee", "opened", box=None)
    for case in body["cases"]:
        table.add_row(
            case["id"],
            str(case["severity"]),
            case["policy_item"],
            escape(f"{case['target']['type']}: {case['target']['label']}"),
            str(case["report_count"]),
            case["assignee"] or "-",
            _when(case["created_at"]),
        )
    out.print(table)


def case(case_id: CaseId, json_output: Json = False) -> None:
    """A case: the content as reported, its reports, notes, actions and appeals."""
    body = run(lambda: _call("GET", f"/v1/moderation/cases/{case_id}"), json_output=json_output)
    if json_output:
        emit_json(body)
        return
    target = body["target"]
    out.print(
        f"[bold]{body['id']}[/bold]  {body['status']} · severity {body['severity']} · "
        f"{body['policy_item']} · source {body['source']}"
    )
    out.print(f"target: {target['type']} {escape(target['label'])} ({target['id']})")
    if target["url"]:
        out.print(f"  {escape(target['url'])}")
    out.print(f"owner: {body['owner'] or '-'} · assignee: {body['assignee'] or '-'}")
    out.print("content as reported:")
    for key, value in body["snapshot"].items():
        out.print(f"  {key}: {escape(str(value))[:2000]}")
    for report in body["reports"]:
        who = report["reporter"] or report["source"]
        note = f": {escape(report['note'])}" if report["note"] else ""
        out.print(f"report {_when(report['created_at'])} by {who} · {report['policy_item']}{note}")
    for note_row in body["notes"]:
        out.print(
            f"note {_when(note_row['created_at'])} {note_row['author']}: {escape(note_row['text'])}"
        )
    for action in body["actions"]:
        reversed_ = " (reversed)" if action["reversed_at"] else ""
        out.print(
            f"action {action['id']} {action['action']}{reversed_} by "
            f"{action['moderator'] or 'automation'}: {escape(action['rationale'])}"
        )
    for item in body["appeals"]:
        out.print(f"appeal {item['id']} {item['status']}: {escape(item['statement'])}")


def assign(
    case_id: CaseId,
    assignee: Annotated[
        str | None, typer.Argument(help="a moderator's username; omit to clear")
    ] = None,
    json_output: Json = False,
) -> None:
    """Assign a case to a moderator (or clear the assignment)."""
    body = run(
        lambda: _call(
            "POST", f"/v1/moderation/cases/{case_id}/assign", json={"assignee": assignee}
        ),
        json_output=json_output,
    )
    _done(json_output, body, f"{case_id} assigned to {body['assignee'] or 'nobody'}")


def note(
    case_id: CaseId,
    text: Annotated[str, typer.Argument(help="an internal note (moderators only)")],
    json_output: Json = False,
) -> None:
    """Add an internal note to a case."""
    body = run(
        lambda: _call("POST", f"/v1/moderation/cases/{case_id}/notes", json={"text": text}),
        json_output=json_output,
    )
    _done(json_output, body, f"note {body['id']} added")


def open_case(
    kind: Annotated[str, typer.Argument(help="article, comment, public_account or account")],
    target: Annotated[str, typer.Argument(help="its id (or @handle / @username)")],
    policy: Policy,
    note: Annotated[str | None, typer.Option("--note", help="why, for other moderators")] = None,
    json_output: Json = False,
) -> None:
    """Open a case yourself (source: moderator), or join the target's open case."""
    body: dict[str, Any] = {"target": {"type": kind, "id": target}, "policy_item": policy}
    if note:
        body["note"] = note
    case = run(lambda: _call("POST", "/v1/moderation/cases", json=body), json_output=json_output)
    joined = case["report_count"] > 1
    text = f"{'joined' if joined else 'opened'} case {case['id']} ({case['source']})"
    _done(json_output, case, text)


def act(
    case_id: CaseId,
    action: Annotated[
        str,
        typer.Argument(help="dismiss, label, remove_content, restrict_publishing or suspend"),
    ],
    policy: Policy,
    rationale: Annotated[str, typer.Option("--rationale", help="why; shown to the owner")],
    days: Annotated[
        int | None, typer.Option("--days", min=1, max=3650, help="restriction/suspension length")
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="the label, for label")] = None,
    json_output: Json = False,
) -> None:
    """Decide a case: the owner gets a notice and may appeal."""
    body: dict[str, Any] = {"action": action, "policy_item": policy, "rationale": rationale}
    if days is not None:
        body["duration_days"] = days
    if label is not None:
        body["label"] = label
    record = run(
        lambda: _call("POST", f"/v1/moderation/cases/{case_id}/actions", json=body),
        json_output=json_output,
    )
    _done(json_output, record, f"{record['action']} recorded as {record['id']}; case closed")


def appeals(
    status: Annotated[str, typer.Option("--status", help="pending, granted, denied or all")] = (
        "pending"
    ),
    json_output: Json = False,
) -> None:
    """Appeals waiting for a decision (or decided ones)."""
    body = run(
        lambda: _call("GET", "/v1/moderation/appeals", params={"status": status}),
        json_output=json_output,
    )
    if json_output:
        emit_json(body)
        return
    if not body["appeals"]:
        out.print(f"no {status} appeals")
        return
    for item in body["appeals"]:
        action = item["action"] or {}
        out.print(
            f"[bold]{item['id']}[/bold]  {item['status']} · @{item['account']} appeals "
            f"{action.get('action', '?')} by {action.get('moderator') or 'automation'}"
        )
        out.print(f"  {escape(item['statement'])}")


def decide(
    appeal_id: Annotated[str, typer.Argument(help="the appeal id (z_…)")],
    grant: Annotated[
        bool, typer.Option("--grant/--deny", help="grant (reverse the action) or deny")
    ],
    rationale: Annotated[str, typer.Option("--rationale", help="why; shown to the owner")],
    json_output: Json = False,
) -> None:
    """Decide an appeal (never one against your own action)."""
    body = run(
        lambda: _call(
            "POST",
            f"/v1/moderation/appeals/{appeal_id}/decision",
            json={"grant": grant, "rationale": rationale},
        ),
        json_output=json_output,
    )
    _done(json_output, body, f"appeal {body['id']} {body['status']}")


def role(
    username: Annotated[str, typer.Argument(help="@username")],
    new_role: Annotated[str, typer.Argument(help="user, moderator or admin")],
    json_output: Json = False,
) -> None:
    """Set an account's role (admins)."""
    name = username.lstrip("@")
    body = run(
        lambda: _call("PUT", f"/v1/admin/accounts/{name}/role", json={"role": new_role}),
        json_output=json_output,
    )
    _done(json_output, body, f"@{body['username']} is now {body['role']}")


def audit(
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 50,
    json_output: Json = False,
) -> None:
    """The audit log of moderator and admin actions, newest first (admins)."""
    body = run(
        lambda: _call("GET", "/v1/admin/audit", params={"limit": limit}), json_output=json_output
    )
    if json_output:
        emit_json(body)
        return
    table = Table("when", "who", "did", "subject", box=None)
    for entry in body["entries"]:
        table.add_row(_when(entry["created_at"]), entry["actor"], entry["action"], entry["subject"])
    out.print(table)
