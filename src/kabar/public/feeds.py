"""Atom 1.0 and RSS 2.0 documents for a public account's articles (DESIGN §5, open web).

Documents are built with :mod:`xml.etree.ElementTree`, which escapes every
text and attribute value, so a hostile title or article (``<script>``,
``]]>``) is data, never markup. Characters XML 1.0 cannot carry at all
(most C0 controls, lone surrogates, U+FFFE/U+FFFF) are removed first;
otherwise one stray byte in a title would make the whole feed unreadable.

* Atom: RFC 3339 UTC dates, ``link rel="self"``, ``<content type="html">``
  holding the article's sanitised HTML, ``<summary type="text">``.
* RSS: RFC 822 dates, ``atom:link rel="self"``, the summary in
  ``<description>``, the HTML in ``content:encoded``, the byline in
  ``dc:creator`` (RSS's ``<author>`` must be an e-mail address).

Entry ids must be stable forever (feed readers de-duplicate by them): use
:func:`tag_uri` with the article's immutable id, or the canonical URL if
slugs never change. Entries are written in the order given (newest first,
by convention). See ``docs/public-accounts.md``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime

ATOM_MEDIA_TYPE = "application/atom+xml"
RSS_MEDIA_TYPE = "application/rss+xml"
_ATOM_NS = "http://www.w3.org/2005/Atom"
_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_DC_NS = "http://purl.org/dc/elements/1.1/"
_GENERATOR = "kabar"
_GENERATOR_URI = "https://kabar.dev"
# Everything outside XML 1.0's Char production.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TAG_AUTHORITY = re.compile(r"[a-z0-9.-]+(?:@[a-z0-9.-]+)?", re.IGNORECASE)


@dataclass(frozen=True)
class FeedAccount:
    """The public account a feed belongs to."""

    handle: str
    name: str
    bio: str
    url: str
    """Canonical URL of the account's page (``https://host/@handle``); also the feed's id."""


@dataclass(frozen=True)
class FeedEntry:
    """One published article, as a feed shows it."""

    id: str
    """Stable unique id: a ``tag:`` URI (see :func:`tag_uri`) or the canonical URL."""
    title: str
    url: str
    published: datetime
    updated: datetime
    author: str
    """The byline: who wrote it, as shown to readers."""
    summary: str
    content_html: str
    """Sanitised article HTML (from :func:`kabar.public.render.render_article`)."""


def tag_uri(authority: str, minted: date, specific: str) -> str:
    """An RFC 4151 ``tag:`` URI, e.g. ``tag:news.example,2025-03-01:article/a_k3v…``.

    ``authority`` is a domain (or e-mail address) the operator controls and
    ``minted`` a date on which it did; with an immutable ``specific`` part
    (an article id, not its slug) the id survives renames.
    """
    if not _TAG_AUTHORITY.fullmatch(authority):
        raise ValueError(f"{authority!r} is not a domain name or e-mail address")
    return f"tag:{authority.lower()},{minted.isoformat()}:{specific}"


def atom_feed(
    account: FeedAccount,
    entries: Sequence[FeedEntry],
    *,
    self_url: str,
    updated: datetime | None = None,
) -> bytes:
    """The Atom 1.0 document (UTF-8 bytes) served at ``self_url``.

    ``updated`` defaults to the newest entry's ``updated``, or now for an empty feed.
    """
    feed = ET.Element("feed", {"xmlns": _ATOM_NS})
    _text(feed, "id", account.url)
    _text(feed, "title", account.name, {"type": "text"})
    if account.bio:
        _text(feed, "subtitle", account.bio, {"type": "text"})
    _link(feed, "link", rel="alternate", type="text/html", href=account.url)
    _link(feed, "link", rel="self", type=ATOM_MEDIA_TYPE, href=self_url)
    _text(feed, "updated", _rfc3339(_feed_updated(entries, updated)))
    author = ET.SubElement(feed, "author")
    _text(author, "name", account.name)
    _text(author, "uri", account.url)
    _text(feed, "generator", _GENERATOR, {"uri": _GENERATOR_URI})
    for entry in entries:
        _atom_entry(feed, entry)
    return _serialise(feed)


def rss_feed(
    account: FeedAccount,
    entries: Sequence[FeedEntry],
    *,
    self_url: str,
    updated: datetime | None = None,
) -> bytes:
    """The RSS 2.0 document (UTF-8 bytes) served at ``self_url``.

    ``updated`` (``lastBuildDate``) defaults as in :func:`atom_feed`.
    """
    rss = ET.Element(
        "rss",
        {
            "version": "2.0",
            "xmlns:atom": _ATOM_NS,
            "xmlns:content": _CONTENT_NS,
            "xmlns:dc": _DC_NS,
        },
    )
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", account.name)
    _text(channel, "link", account.url)
    _text(channel, "description", account.bio or f"Articles by {account.name}")
    _link(channel, "atom:link", rel="self", type=RSS_MEDIA_TYPE, href=self_url)
    _text(channel, "lastBuildDate", _rfc822(_feed_updated(entries, updated)))
    _text(channel, "generator", _GENERATOR)
    for entry in entries:
        _rss_item(channel, entry)
    return _serialise(rss)


def _atom_entry(feed: ET.Element, entry: FeedEntry) -> None:
    element = ET.SubElement(feed, "entry")
    _text(element, "id", entry.id)
    _text(element, "title", entry.title, {"type": "text"})
    _link(element, "link", rel="alternate", type="text/html", href=entry.url)
    _text(element, "published", _rfc3339(entry.published))
    _text(element, "updated", _rfc3339(entry.updated))
    author = ET.SubElement(element, "author")
    _text(author, "name", entry.author)
    if entry.summary:
        _text(element, "summary", entry.summary, {"type": "text"})
    _text(element, "content", entry.content_html, {"type": "html"})


def _rss_item(channel: ET.Element, entry: FeedEntry) -> None:
    item = ET.SubElement(channel, "item")
    _text(item, "title", entry.title)
    _text(item, "link", entry.url)
    permalink = "true" if entry.id == entry.url else "false"
    _text(item, "guid", entry.id, {"isPermaLink": permalink})
    _text(item, "pubDate", _rfc822(entry.published))
    _text(item, "dc:creator", entry.author)
    if entry.summary:
        _text(item, "description", entry.summary)
    _text(item, "content:encoded", entry.content_html)


def _text(
    parent: ET.Element, tag: str, value: str, attributes: dict[str, str] | None = None
) -> None:
    element = ET.SubElement(parent, tag, attributes or {})
    element.text = _xml_safe(value)


def _link(parent: ET.Element, tag: str, *, rel: str, type: str, href: str) -> None:
    ET.SubElement(parent, tag, {"rel": rel, "type": type, "href": _xml_safe(href)})


def _xml_safe(value: str) -> str:
    return _NOT_XML_CHAR.sub("", value)


def _serialise(root: ET.Element) -> bytes:
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _feed_updated(entries: Sequence[FeedEntry], updated: datetime | None) -> datetime:
    if updated is not None:
        return updated
    if entries:
        return max((entry.updated for entry in entries), key=_utc)
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("feed dates must be timezone-aware")
    return moment.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rfc822(moment: datetime) -> str:
    return format_datetime(_utc(moment), usegmt=True)
