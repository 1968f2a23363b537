"""Names in public URLs: article slugs, heading ids and public-account handles.

A public account lives at ``/@handle`` and its articles at ``/@handle/<slug>``
(DESIGN §5), so both must be URL-safe, stable and unambiguous:

* **Slugs** are lower-case ASCII letters, digits and single hyphens, at most
  80 characters, never empty. Latin letters with diacritics, and Cyrillic and
  Greek, are transliterated; other scripts (Arabic, CJK …) have no simple
  transliteration, so a title made only of them gets a short, stable
  hash-based slug instead. A few slugs are reserved because the pages under
  ``/@handle/`` use them.
* **Handles** are 3–30 of ``a-z0-9_``, typed in any case, stored folded to
  lower case, and never one of the reserved words that name site paths or
  suggest authority. Only ASCII input is accepted: folding arbitrary Unicode
  (e.g. KELVIN SIGN → ``k``) would let look-alike spellings reach the same handle.

See ``docs/public-accounts.md``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable

from kabar.errors import ErrorCode, InvalidRequest

MAX_SLUG_LENGTH = 80
HANDLE_MIN_LENGTH = 3
HANDLE_MAX_LENGTH = 30

# Sequential suffixes read well (``my-title-2``); after this many are taken the
# title is evidently popular, so stop probing one by one and go random.
_SEQUENTIAL_SUFFIX_TRIES = 50

RESERVED_HANDLES: frozenset[str] = frozenset(
    {
        # site paths
        "about", "admin", "api", "app", "assets", "explore", "feed", "feeds", "help",
        "login", "logout", "media", "metrics", "moderation", "register", "search",
        "settings", "signup", "static", "status", "transparency", "v1", "v2", "www",
        # names that claim authority or would confuse readers
        "administrator", "kabar", "moderator", "official", "root", "security", "staff",
        "support", "system", "null", "undefined", "anonymous", "everyone",
    }
)  # fmt: skip

# Paths below /@handle/ that are not articles.
RESERVED_SLUGS: frozenset[str] = frozenset(
    {"about", "articles", "atom", "drafts", "feed", "rss", "settings", "subscribers"}
)

_HANDLE_RE = re.compile(rf"[a-z0-9_]{{{HANDLE_MIN_LENGTH},{HANDLE_MAX_LENGTH}}}")
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NON_ALNUM_RUN = re.compile(r"[^a-z0-9]+")

# Letters NFKD does not decompose into ASCII plus combining marks.
_LATIN_EXTRA = {
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l",
    "þ": "th", "ı": "i", "ħ": "h", "ŋ": "ng", "ĸ": "k", "ſ": "s", "×": "x",
    "’": "", "'": "",  # apostrophes join words: "don't" → "dont", not "don-t"
}  # fmt: skip
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґў",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya "
        "i ie i g u".split(),
        strict=True,
    )
)
_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψω",
        "a v g d e z i th i k l m n x o p r s s t y f ch ps o".split(),
        strict=True,
    )
)
_TRANSLITERATION = {**_LATIN_EXTRA, **_CYRILLIC, **_GREEK}


def transliterate(text: str) -> str:
    """A best-effort ASCII spelling of ``text``; characters with none are dropped."""
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", text.lower()):
        if char in _TRANSLITERATION:
            mapped = _TRANSLITERATION[char]
            out.append("" if mapped == "_" else mapped)
        elif char.isascii():
            out.append(char)
        elif not unicodedata.combining(char):  # an accent's base letter is already out
            out.append(" ")
    return "".join(out)


def slugify(text: str, *, fallback: str = "article", max_length: int = MAX_SLUG_LENGTH) -> str:
    """A URL slug for ``text``: ``"Crème brûlée, 2nd try!"`` → ``"creme-brulee-2nd-try"``.

    Never empty: when nothing transliterates, the slug is ``fallback`` plus
    eight hex digits of the text's SHA-256, so different titles in scripts
    without a transliteration still get different (and stable) slugs.
    """
    slug = _truncate(_NON_ALNUM_RUN.sub("-", transliterate(text)).strip("-"), max_length)
    if slug:
        return slug
    if not text.strip():
        return fallback
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return _truncate(f"{fallback}-{digest}", max_length)


def is_valid_slug(slug: str) -> bool:
    return len(slug) <= MAX_SLUG_LENGTH and _SLUG_RE.fullmatch(slug) is not None


def validate_slug(slug: str) -> str:
    """Check a slug a publisher chose; return it or raise :class:`InvalidRequest`."""
    if not is_valid_slug(slug):
        raise InvalidRequest(
            f"slug must be 1–{MAX_SLUG_LENGTH} of a-z, 0-9 and single inner hyphens",
            code=ErrorCode.INVALID_REQUEST,
            data={"field": "slug"},
        )
    if slug in RESERVED_SLUGS:
        raise InvalidRequest(
            f"slug {slug!r} is reserved", code=ErrorCode.INVALID_REQUEST, data={"field": "slug"}
        )
    return slug


def unique_slug(base: str, taken: Callable[[str], bool]) -> str:
    """``base`` itself, or ``base-2``, ``base-3`` … — the first that is not ``taken``.

    Reserved slugs count as taken. Suffixed slugs still fit in
    :data:`MAX_SLUG_LENGTH`. After a run of taken suffixes a random one is used,
    so a caller whose ``taken`` queries a database makes a bounded number of
    round trips in practice.
    """
    if not base:
        raise ValueError("unique_slug needs a non-empty base; slugify() never returns one")

    def free(candidate: str) -> bool:
        return candidate not in RESERVED_SLUGS and not taken(candidate)

    if free(base):
        return base
    for n in range(2, _SEQUENTIAL_SUFFIX_TRIES + 2):
        candidate = _with_suffix(base, str(n))
        if free(candidate):
            return candidate
    while True:
        candidate = _with_suffix(base, secrets.token_hex(4))
        if free(candidate):
            return candidate


def normalize_handle(raw: str) -> str:
    """The stored form of a public-account handle: ``"@Daily_News"`` → ``"daily_news"``.

    Raises :class:`InvalidRequest` for anything that is not 3–30 of ``a-z0-9_``
    (after an optional leading ``@`` and case folding) or that is reserved.
    """
    handle = raw[1:] if raw.startswith("@") else raw
    if not handle.isascii() or _HANDLE_RE.fullmatch(handle.lower()) is None:
        raise InvalidRequest(
            f"a handle is {HANDLE_MIN_LENGTH}–{HANDLE_MAX_LENGTH} of a-z, 0-9 and _",
            code=ErrorCode.INVALID_REQUEST,
            data={"field": "handle"},
        )
    handle = handle.lower()
    if handle in RESERVED_HANDLES:
        raise InvalidRequest(
            f"the handle @{handle} is reserved",
            code=ErrorCode.INVALID_REQUEST,
            data={"field": "handle"},
        )
    return handle


def is_valid_handle(raw: str) -> bool:
    try:
        normalize_handle(raw)
    except InvalidRequest:
        return False
    return True


def _truncate(slug: str, max_length: int) -> str:
    """Cut at a hyphen where possible, so a slug does not end mid-word."""
    if len(slug) <= max_length:
        return slug
    cut = slug[:max_length]
    if slug[max_length] != "-" and "-" in cut:
        cut = cut.rsplit("-", 1)[0]
    return cut.strip("-")


def _with_suffix(base: str, suffix: str) -> str:
    room = MAX_SLUG_LENGTH - len(suffix) - 1
    return f"{base[:room].rstrip('-')}-{suffix}"
