"""What HTML may reach a reader: the allow-list every rendered article passes through.

Article HTML comes from our own Markdown renderer with raw HTML switched off,
so in theory it is already safe; this module makes it safe *anyway* (defence
in depth), with nh3 (the Rust ammonia sanitiser) and an explicit allow-list:

* only the tags our Markdown produces — no ``script``, ``style``, ``iframe``,
  ``object``, ``embed``, ``svg``, ``math``, ``form``, ``template`` (those are
  dropped *with* their content);
* only named attributes per tag — no ``on*`` handlers, no ``style``; ``class``
  values only from a fixed set (plus ``language-*`` on ``code``);
* links: ``http``, ``https``, ``mailto`` or relative, and every link gets
  ``rel="nofollow noopener ugc"``;
* images: ``https``/``http`` with a host, or a site path under ``/media/`` —
  never ``data:``, ``javascript:`` or another relative path;
* ids are namespaced (``md-…``), and so are fragment links, so that an
  article's ids cannot clobber the page's own ids or DOM globals;
* task-list checkboxes are forced to ``type="checkbox" disabled``.

The URL predicates are public so the renderer applies the same rules when it
collects image URLs. See ``docs/public-accounts.md``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import nh3

ID_PREFIX = "md-"
LINK_REL = "nofollow noopener ugc"
LINK_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES: frozenset[str] = frozenset({"http", "https"})
MEDIA_PATH_PREFIX = "/media/"

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
ALLOWED_TAGS: frozenset[str] = frozenset(
    {"a", "blockquote", "br", "code", "del", "em", "hr", "img", "input", "li", "ol", "p", "pre"}
    | {"s", "section", "strong", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"}
    | _HEADINGS
)
# Dropped together with everything inside them: their content is code, markup
# or form state, never prose worth keeping.
_DROP_WITH_CONTENT: frozenset[str] = frozenset(
    {"script", "style", "iframe", "object", "embed", "applet", "svg", "math", "template"}
    | {"noscript", "noembed", "noframes", "frameset", "frame", "xmp", "textarea", "select"}
    | {"title", "head", "link", "meta", "base"}
)
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "id", "class"},
    "img": {"src", "alt", "title"},
    "li": {"id", "class"},
    "ol": {"start", "class"},
    "ul": {"class"},
    "code": {"class"},
    "th": {"class"},
    "td": {"class"},
    "sup": {"class"},
    "section": {"class"},
    "hr": {"class"},
    "input": {"class", "checked"},
    **{heading: {"id"} for heading in _HEADINGS},
}
_FORCED_ATTRIBUTES: dict[str, dict[str, str]] = {
    "input": {"type": "checkbox", "disabled": "disabled"},
    "img": {"loading": "lazy", "referrerpolicy": "no-referrer"},
}
# The classes our Markdown plugins emit; anything else is dropped.
_CLASSES: dict[str, frozenset[str]] = {
    "a": frozenset({"footnote-backref"}),
    "sup": frozenset({"footnote-ref"}),
    "hr": frozenset({"footnotes-sep"}),
    "section": frozenset({"footnotes"}),
    "ol": frozenset({"footnotes-list", "contains-task-list"}),
    "ul": frozenset({"contains-task-list"}),
    "li": frozenset({"footnote-item", "task-list-item"}),
    "input": frozenset({"task-list-item-checkbox"}),
    "th": frozenset({"align-left", "align-center", "align-right"}),
    "td": frozenset({"align-left", "align-center", "align-right"}),
}
_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:.-]{0,119}")
# What browsers ignore or strip before deciding a URL's scheme.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def url_scheme(url: str) -> str | None:
    """The scheme a browser would see in ``url`` (lower case), or ``None`` if relative."""
    cleaned = _URL_IGNORED.sub("", url).strip(_C0_AND_SPACE)
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def is_allowed_link(url: str) -> bool:
    """May ``url`` be an ``<a href>``? http(s), mailto, or relative (incl. ``#fragment``)."""
    scheme = url_scheme(url)
    if scheme is None:
        return not url_scheme(unquote(url))  # "javascript%3A…" is still relative; be sure
    return scheme in LINK_SCHEMES


def is_allowed_image_src(url: str) -> bool:
    """May ``url`` be an ``<img src>``? http(s) with a host, or a clean ``/media/…`` path."""
    if _URL_IGNORED.search(url) or url != url.strip() or "\\" in url:
        return False
    scheme = url_scheme(url)
    if scheme is not None:
        return scheme in IMAGE_SCHEMES and bool(urlsplit(url).hostname)
    if not url.startswith(MEDIA_PATH_PREFIX) or url.startswith("//"):
        return False
    # Browsers resolve "%2e%2e" like "..": check the decoded path.
    segments = unquote(urlsplit(url).path).split("/")
    return not any(segment in {".", ".."} or "\\" in segment for segment in segments)


def sanitise_html(html: str) -> str:
    """``html`` reduced to the allow-list above.

    Not idempotent on purpose: each pass namespaces ids again, so sanitise once,
    at render time, and store the result.
    """
    return _CLEANER.clean(html)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 calls this for every allowed attribute, after its own URL-scheme check."""
    if attribute == "id":
        return ID_PREFIX + value if _ID.fullmatch(value) else None
    if attribute == "class":
        return _filter_classes(tag, value)
    if attribute == "href":
        return _filter_href(value)
    if attribute == "src":
        return value if is_allowed_image_src(value) else None
    if attribute == "start":
        return value if value.isdecimal() and value.isascii() and len(value) <= 9 else None
    return value


def _filter_classes(tag: str, value: str) -> str | None:
    allowed = _CLASSES.get(tag, frozenset())
    kept = [
        name
        for name in value.split()
        if name in allowed or (tag == "code" and _LANGUAGE_CLASS.fullmatch(name))
    ]
    return " ".join(kept) or None


def _filter_href(value: str) -> str | None:
    if value.startswith("#") and len(value) > 1:
        return f"#{ID_PREFIX}{value[1:]}"
    return value if is_allowed_link(value) else None


_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel=LINK_REL,
    generic_attribute_prefixes=set(),
    set_tag_attribute_values=_FORCED_ATTRIBUTES,
    url_schemes=set(LINK_SCHEMES),
)
