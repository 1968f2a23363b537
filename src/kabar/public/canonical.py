"""Signed authorship: the exact bytes a publishing device signs for an article revision.

DESIGN §5: the device that publishes a revision signs its canonical form with
its Ed25519 identity key; pages and the API show the signature and key, so a
reader can check that neither the server nor anyone relaying the article
changed it. The signed bytes are the canonical JSON
(:func:`kabar.protocol.canonical.canonical_json`: sorted keys, no spaces,
UTF-8) of::

    {"kabar": "article-revision/1", "account": <author's username>,
     "device_id": <signing device>, "handle": <public account, no "@">,
     "slug": …, "title": …, "markdown": <exactly as stored>,
     "revision": <1, 2, 3 …>, "published_at": "YYYY-MM-DDTHH:MM:SSZ"}

``published_at`` is UTC with whole seconds (fractions are dropped), so that a
timestamp that went through a database round trip still formats the same.
The Markdown is signed byte for byte: the server must store and serve it
unchanged (no newline or Unicode normalisation). Signatures and keys are
unpadded base64, as vodozemac writes them. See ``docs/public-accounts.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kabar.errors import ErrorCode, InvalidRequest
from kabar.protocol.canonical import canonical_json
from kabar.protocol.signing import verify_ed25519

REVISION_FORMAT = "article-revision/1"


@dataclass(frozen=True)
class ArticleRevision:
    """The signed fields of one published revision of an article."""

    handle: str
    slug: str
    title: str
    markdown: str
    revision: int
    published_at: datetime
    device_id: str
    account: str


def rfc3339_utc(moment: datetime) -> str:
    """``moment`` as ``2024-05-01T12:00:00Z``: UTC, whole seconds. Naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidRequest(
            "published_at needs a time zone",
            code=ErrorCode.INVALID_REQUEST,
            data={"field": "published_at"},
        )
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def revision_payload(revision: ArticleRevision) -> bytes:
    """The bytes the publishing device signs for ``revision``."""
    number = revision.revision
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidRequest(
            "revision numbers start at 1",
            code=ErrorCode.INVALID_REQUEST,
            data={"field": "revision"},
        )
    fields = {
        "kabar": REVISION_FORMAT,
        "handle": revision.handle,
        "slug": revision.slug,
        "title": revision.title,
        "markdown": revision.markdown,
        "revision": number,
        "published_at": rfc3339_utc(revision.published_at),
        "device_id": revision.device_id,
        "account": revision.account,
    }
    try:
        return canonical_json(fields)
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form to sign
        raise InvalidRequest(
            "article text is not valid Unicode", code=ErrorCode.INVALID_REQUEST
        ) from exc


def verify_revision(revision: ArticleRevision, *, ed25519_key: str, signature: str) -> bool:
    """True only if ``signature`` is ``ed25519_key``'s signature of ``revision``'s payload."""
    return verify_ed25519(ed25519_key, revision_payload(revision), signature)
