"""Signed authorship on the client: signing the revisions this device publishes, and
checking anyone's signature from an article's public data.

Both sides use :func:`kabar.public.canonical.revision_payload` — the very function
the server verifies with — so what the device signs is byte for byte what the
server (and any reader) rebuilds: the canonical JSON of the handle, slug, title,
Markdown, revision number, signed time (UTC, whole seconds), device id and
username (``docs/public-accounts.md``, *Signed authorship*).

A check is only as good as what it is given: :func:`check` verifies the title
and Markdown *as served* against the signature, and that they are served under
the handle and slug (and revision) the reader asked for, so a server cannot pass
off another validly signed article as this one. Whether the key really is the
author's device is a separate question for the key directory
(:mod:`kabar.client.public`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kabar.client.crypto.device import DeviceIdentity
from kabar.client.public_models import Signature
from kabar.errors import KabarError
from kabar.protocol.signing import verify_ed25519
from kabar.public.canonical import ArticleRevision, revision_payload, rfc3339_utc

JsonBody = dict[str, object]


@dataclass(frozen=True, slots=True)
class Signed:
    """The fields of a revision as shown by a server, to check against their signature."""

    handle: str
    slug: str
    title: str
    markdown: str | None
    revision: int
    signature: Signature | None


def whole_seconds(moment: datetime) -> datetime:
    """``moment`` in UTC without fractions: the form that gets signed."""
    if moment.tzinfo is None:
        raise ValueError("a publication time needs a time zone")
    return moment.astimezone(UTC).replace(microsecond=0)


def publish_body(
    identity: DeviceIdentity,
    *,
    handle: str,
    slug: str,
    title: str,
    markdown: str,
    revision: int,
    at: datetime,
) -> JsonBody:
    """The ``POST …/publish`` body: the revision's fields and this device's signature of them."""
    at = whole_seconds(at)
    payload = revision_payload(
        ArticleRevision(
            handle=handle,
            slug=slug,
            title=title,
            markdown=markdown,
            revision=revision,
            published_at=at,
            device_id=identity.device_id,
            account=identity.username,
        )
    )
    return {
        "title": title,
        "markdown": markdown,
        "revision": revision,
        "published_at": rfc3339_utc(at),
        "signature": identity.sign(payload),
    }


def check(
    shown: Signed, *, handle: str | None = None, slug: str | None = None
) -> tuple[bool, list[str]]:
    """Whether ``shown``'s signature is valid over what it shows, and every reason it does
    not verify (none: it does).

    ``handle`` and ``slug`` are what the reader asked for; when given, the signed
    ones must be the same.
    """
    signature = shown.signature
    if signature is None:
        return False, ["the article carries no signature"]
    if shown.markdown is None:
        return False, ["the server did not send the article's text"]
    problems = []
    if handle is not None and shown.handle != handle.lstrip("@").lower():
        problems.append(f"signed for @{shown.handle}, not @{handle.lstrip('@')}")
    if slug is not None and shown.slug != slug:
        problems.append(f"signed as {shown.slug!r}, not {slug!r}")
    if signature.revision != shown.revision:
        problems.append(f"the signature is for revision {signature.revision}, not {shown.revision}")
    valid = _valid(shown, signature)
    if not valid:
        problems.append("the signature does not match the text, title or author shown")
    return valid, problems


def _valid(shown: Signed, signature: Signature) -> bool:
    try:
        signed_at = datetime.fromisoformat(signature.published_at)
        payload = revision_payload(
            ArticleRevision(
                handle=shown.handle,
                slug=shown.slug,
                title=shown.title,
                markdown=shown.markdown or "",
                revision=signature.revision,
                published_at=signed_at,
                device_id=signature.device_id,
                account=signature.account,
            )
        )
    except (ValueError, KabarError):  # a malformed time, a naive one, broken Unicode
        return False
    return verify_ed25519(signature.ed25519, payload, signature.signature)
