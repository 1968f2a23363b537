"""``kabar transparency verify``: audit a server's public moderation log.

The first run pins the log key (``--key``, else the key the server serves,
trusted on first use) and saves a checkpoint with ``--save-head``: the signed
tree head, every leaf hash under it and the key. Later runs with ``--head``
prove that the log only grew since — no entry altered, reordered or removed —
and, with ``--save-head``, move the checkpoint forward.

Exit status: 0 verified, 1 the log failed verification, 2 the check could not
be made (server unreachable, unreadable checkpoint or key).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from kabar.cli.output import emit_json, err, out, run
from kabar.cli.profile import CliError, Profile
from kabar.client.errors import ClientError
from kabar.client.http import HttpTransport
from kabar.client.transparency import fetch_key, fetch_log
from kabar.errors import InvalidRequest
from kabar.moderation.transparency.sth import LogPublicKey
from kabar.moderation.transparency.verify import Checkpoint, Verdict, verify_log

transparency_app = typer.Typer(
    help="The public moderation log: check it was never quietly rewritten.",
    no_args_is_help=True,
)

FAILED = 1
CANNOT_CHECK = 2


def _read_key(value: str) -> LogPublicKey:
    """A PEM or raw-base64 public key, given inline or as a file."""
    data = value
    if os.path.exists(value):
        data = Path(value).read_text()
    try:
        if data.lstrip().startswith("-----BEGIN"):
            return LogPublicKey.from_pem(data.encode())
        return LogPublicKey.from_raw_base64(data.strip())
    except InvalidRequest as exc:
        raise CliError(f"--key: {exc.detail}", CANNOT_CHECK) from None


def _read_checkpoint(path: Path) -> tuple[Checkpoint, LogPublicKey | None]:
    try:
        data = json.loads(path.read_text())
        checkpoint = Checkpoint.from_json(data)
        key = LogPublicKey.from_raw_base64(data["public_key"]) if "public_key" in data else None
    except (OSError, ValueError, TypeError, InvalidRequest) as exc:
        detail = exc.detail if isinstance(exc, InvalidRequest) else str(exc)
        raise CliError(f"cannot read the saved head {path}: {detail}", CANNOT_CHECK) from None
    return checkpoint, key


def _save(path: Path, verdict: Verdict, key: LogPublicKey, server: str) -> None:
    assert verdict.checkpoint is not None
    data: dict[str, Any] = {
        **verdict.checkpoint.to_json(),
        "public_key": key.to_raw_base64(),
        "server": server,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


@transparency_app.command("verify")
def verify(
    server: Annotated[
        str | None, typer.Option("--server", "-s", help="server URL (default: your profile's)")
    ] = None,
    head: Annotated[
        Path | None, typer.Option("--head", help="a checkpoint saved by an earlier run")
    ] = None,
    save_head: Annotated[
        Path | None, typer.Option("--save-head", help="write the new checkpoint here")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="the log public key to pin: PEM or base64, or a file of it"),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
) -> None:
    """Check the log against a saved tree head: exit 0 verified, 1 failed, 2 cannot check."""
    url = server or Profile.load().server

    async def work() -> tuple[Verdict, LogPublicKey, bool]:
        # Read inside run(), which turns a CliError into one line and its exit status.
        saved, saved_key = _read_checkpoint(head) if head is not None else (None, None)
        pinned = _read_key(key) if key is not None else saved_key
        http = HttpTransport(url)
        try:
            log_key, trusted = pinned, pinned is not None
            if log_key is None:
                log_key = await fetch_key(http)
            saved_size = saved.head.head.tree_size if saved is not None else None
            fetched = await fetch_log(http, saved_size)
        except ClientError as exc:
            raise CliError(f"cannot check the log of {url}: {exc}", CANNOT_CHECK) from None
        finally:
            await http.aclose()
        verdict = verify_log(log_key, saved, fetched.head, fetched.entries, fetched.consistency)
        return verdict, log_key, trusted

    verdict, log_key, trusted = run(work, json_output=json_output)
    if not trusted:
        err.print(
            f"note: trusting the key the server serves (log id {log_key.log_id[:16]}…); "
            "pin it with --key or a saved head"
        )
    if verdict.ok and save_head is not None:
        _save(save_head, verdict, log_key, url)
    if json_output:
        emit_json(
            {
                "ok": verdict.ok,
                "problem": verdict.problem.value if verdict.problem else None,
                "detail": verdict.detail,
                "index": verdict.index,
                "span": list(verdict.span) if verdict.span else None,
                "tree_size": verdict.checkpoint.head.head.tree_size if verdict.checkpoint else None,
            }
        )
    elif verdict.ok:
        out.print(f"[green]verified:[/green] {verdict.detail}")
    else:
        assert verdict.problem is not None
        out.print(f"[red]FAILED ({verdict.problem.value}):[/red] {verdict.detail}")
    if not verdict.ok:
        raise typer.Exit(FAILED)
