"""How the CLI shows public accounts, articles, feed entries and signature checks.

Rich markup for people; every user-typed or server-sent string is escaped. The
``--json`` forms are :func:`kabar.client.models.to_json` of the SDK's values.
"""

from __future__ import annotations

import datetime

from rich.markup import escape

from kabar.client import Article, KeyCheck, PublicAccount, Verification
from kabar.client.public_models import Signature


def when(ms: int | None) -> str:
    if not ms:
        return "—"
    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def account_line(account: PublicAccount) -> str:
    badge = " [green]✓ verified[/green]" if account.verification else ""
    role = f"  [dim](you: {account.my_role})[/dim]" if account.my_role else ""
    return (
        f"[bold]{escape(account.name)}[/bold] @{escape(account.handle)}{badge} "
        f"[dim]{account.kind} · {account.subscriber_count} subscribers · "
        f"{account.article_count} articles[/dim]{role}"
    )


def account_details(account: PublicAccount) -> list[str]:
    lines = [account_line(account)]
    if account.bio:
        lines.append(escape(account.bio))
    if account.verification:
        v = account.verification
        lines.append(
            f"[green]✓[/green] verified by {escape(v.verified_by)} on {when(v.verified_at)}: "
            f"{escape(v.note)}"
        )
    lines.append(f"[dim]{escape(account.url)}[/dim]")
    return lines


def article_entry(article: Article) -> list[str]:
    """An article in a list: title, where and when, summary, how to read it."""
    facts = [
        f"{escape(article.account_name)} (@{escape(article.handle)})",
        when(article.published_at or article.scheduled_at or article.created_at),
        f"{article.reading_minutes} min read",
    ]
    if article.status != "published":
        facts.insert(1, article.status)
    if article.edited_at:
        facts.append("edited")
    lines = [f"[bold]{escape(article.title)}[/bold]", f"  [dim]{' · '.join(facts)}[/dim]"]
    if article.summary:
        lines.append(f"  {escape(article.summary)}")
    lines.append(f"  [dim]kabar read-article {escape(article.reference)}[/dim]")
    return lines


def byline(article: Article) -> str:
    parts = [f"by @{escape(article.byline)}" if article.byline else "", when(article.published_at)]
    views = f"{article.view_count} view" + ("" if article.view_count == 1 else "s")
    parts += [f"{article.reading_minutes} min read", views]
    if article.edited_at:
        parts.append(f"edited {when(article.edited_at)} (revision {article.revision})")
    return " · ".join(p for p in parts if p)


KEY_TEXT = {
    KeyCheck.VERIFIED: "the device you verified by safety number",
    KeyCheck.LISTED: (
        "the key directory lists it for that device "
        "(compare safety numbers — kabar verify @{account} — to be sure it is theirs)"
    ),
    KeyCheck.NOT_LISTED: (
        "that device is not in the key directory any more (signed out?); "
        "the signature stands on the key published with the article"
    ),
    KeyCheck.MISMATCH: "the key directory lists ANOTHER key for that device",
    KeyCheck.NOT_CHECKED: (
        "not checked against the key directory (log in on {server} to check it)"
    ),
}


def verification_lines(check: Verification) -> list[str]:
    """OK or FAILED, who signed with which device key, and what the directory says."""
    head = "[green]OK[/green]" if check.ok else "[red]FAILED[/red]"
    lines = [
        f"{head}: {escape(check.reference)}, revision {check.revision} — “{escape(check.title)}”"
    ]
    signature = check.signature
    if signature is not None:
        lines += signer_lines(signature, check)
    for problem in check.problems:
        lines.append(f"  [red]✗ {escape(problem)}[/red]")
    return lines


def signer_lines(signature: Signature, check: Verification) -> list[str]:
    key = KEY_TEXT[check.key].format(account=signature.account, server=check.server)
    return [
        f"  signed by @{escape(signature.account)} with device {escape(signature.device_id)}",
        f"  device key (Ed25519): {escape(signature.ed25519)}",
        f"  signed for {escape(signature.published_at)}",
        f"  key: {escape(key)}",
    ]


def signed_line(check: Verification) -> str:
    """One line for the top of an article."""
    signature = check.signature
    if check.ok and signature is not None:
        return (
            f"[green]✓ signed[/green] by @{escape(signature.account)}'s device "
            f"{escape(signature.device_id)} [dim]({check.key.value})[/dim]"
        )
    problems = "; ".join(check.problems) or "no signature"
    return f"[red]✗ signature check FAILED:[/red] {escape(problems)}"
