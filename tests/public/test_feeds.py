"""Atom and RSS feeds parse in a real feed reader (feedparser) and carry hostile text as text."""

from __future__ import annotations

import calendar
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import feedparser
import pytest

from kabar.public.feeds import FeedAccount, FeedEntry, atom_feed, rss_feed, tag_uri

ACCOUNT = FeedAccount(
    handle="daily_news",
    name="Daily News",
    bio="All the news that fits.",
    url="https://kabar.example/@daily_news",
)
ATOM_URL = "https://kabar.example/@daily_news/atom.xml"
RSS_URL = "https://kabar.example/@daily_news/rss.xml"
HOSTILE = "Breaking <script>alert(1)</script> ]]> & \"quotes\" 'too'"


def entry(n: int, **changes: Any) -> FeedEntry:
    fields: dict[str, Any] = {
        "id": tag_uri("kabar.example", date(2025, 1, 1), f"article/a_{n}"),
        "title": f"Article {n}",
        "url": f"https://kabar.example/@daily_news/article-{n}",
        "published": datetime(2025, 3, n, 9, 30, tzinfo=UTC),
        "updated": datetime(2025, 3, n, 10, 0, tzinfo=UTC),
        "author": "Alice Example",
        "summary": f"Summary {n}.",
        "content_html": f"<p>Body of article {n}.</p>",
    }
    fields.update(changes)
    return FeedEntry(**fields)


ENTRIES = [entry(2), entry(1)]


def parse(document: bytes) -> Any:
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def feeds(entries: list[FeedEntry], account: FeedAccount = ACCOUNT) -> list[bytes]:
    return [
        atom_feed(account, entries, self_url=ATOM_URL),
        rss_feed(account, entries, self_url=RSS_URL),
    ]


def test_atom_feed_parses_with_titles_links_ids_and_dates() -> None:
    parsed = parse(atom_feed(ACCOUNT, ENTRIES, self_url=ATOM_URL))
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Daily News"
    assert parsed.feed.subtitle == "All the news that fits."
    assert parsed.feed.id == ACCOUNT.url
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links == {"alternate": ACCOUNT.url, "self": ATOM_URL}
    assert parsed.feed.updated == "2025-03-02T10:00:00Z"
    first = parsed.entries[0]
    assert first.title == "Article 2"
    assert first.link == "https://kabar.example/@daily_news/article-2"
    assert first.id == "tag:kabar.example,2025-01-01:article/a_2"
    assert first.published == "2025-03-02T09:30:00Z"
    assert calendar.timegm(first.updated_parsed) == datetime(2025, 3, 2, 10, tzinfo=UTC).timestamp()
    assert first.author == "Alice Example"
    assert first.summary == "Summary 2."
    assert first.content[0].type == "text/html"
    assert first.content[0].value == "<p>Body of article 2.</p>"


def test_rss_feed_parses_with_titles_links_ids_and_dates() -> None:
    parsed = parse(rss_feed(ACCOUNT, ENTRIES, self_url=RSS_URL))
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Daily News"
    assert parsed.feed.link == ACCOUNT.url
    assert parsed.feed.subtitle == "All the news that fits."
    assert any(link.rel == "self" and link.href == RSS_URL for link in parsed.feed.links)
    assert parsed.feed.updated == "Sun, 02 Mar 2025 10:00:00 GMT"
    first = parsed.entries[0]
    assert first.title == "Article 2"
    assert first.link == "https://kabar.example/@daily_news/article-2"
    assert first.id == "tag:kabar.example,2025-01-01:article/a_2"
    assert first.guidislink is False
    assert first.published == "Sun, 02 Mar 2025 09:30:00 GMT"
    assert (
        calendar.timegm(first.published_parsed)
        == datetime(2025, 3, 2, 9, 30, tzinfo=UTC).timestamp()
    )
    assert first.author == "Alice Example"
    assert first.summary == "Summary 2."
    assert first.content[0].value == "<p>Body of article 2.</p>"


def test_entries_keep_their_order() -> None:
    for document in feeds([entry(1), entry(3), entry(2)]):
        assert [e.title for e in parse(document).entries] == ["Article 1", "Article 3", "Article 2"]


def test_dates_in_other_zones_are_written_in_utc() -> None:
    plus_three = timezone(timedelta(hours=3))
    local = entry(1, published=datetime(2025, 3, 1, 12, 0, tzinfo=plus_three))
    atom, rss = feeds([local])
    assert parse(atom).entries[0].published == "2025-03-01T09:00:00Z"
    assert parse(rss).entries[0].published == "Sat, 01 Mar 2025 09:00:00 GMT"


def test_canonical_url_as_id_is_a_permalink_guid() -> None:
    url = "https://kabar.example/@daily_news/x"
    document = rss_feed(ACCOUNT, [entry(1, id=url, url=url)], self_url=RSS_URL)
    guid = ET.fromstring(document).find("channel/item/guid")
    assert guid is not None
    assert guid.get("isPermaLink") == "true"
    assert parse(document).entries[0].id == url


@pytest.mark.parametrize("make", [atom_feed, rss_feed])
def test_hostile_titles_and_content_are_escaped_and_round_trip(make: Any) -> None:
    hostile_html = "<p>x ]]> y</p><script>alert(1)</script><![CDATA[z]]>"
    account = FeedAccount("daily_news", HOSTILE, HOSTILE, ACCOUNT.url)
    hostile = entry(1, title=HOSTILE, summary=HOSTILE, author=HOSTILE, content_html=hostile_html)
    document = make(account, [hostile], self_url=ATOM_URL)
    assert b"<script>" not in document
    assert b"]]>" not in document
    texts = [element.text for element in ET.fromstring(document).iter()]
    assert texts.count(HOSTILE) >= 3
    assert hostile_html in texts
    parsed = parse(document)
    assert parsed.entries[0].title == HOSTILE
    assert parsed.feed.title == HOSTILE


@pytest.mark.parametrize("make", [atom_feed, rss_feed])
def test_characters_xml_cannot_carry_are_dropped_not_fatal(make: Any) -> None:
    bad = entry(1, title="a\x00b\x01c\x0bd\ufffee\ud800f", content_html="<p>\x1b[31m</p>")
    document = make(ACCOUNT, [bad], self_url=ATOM_URL)
    ET.fromstring(document)
    assert parse(document).entries[0].title == "abcdef"


@pytest.mark.parametrize("make", [atom_feed, rss_feed])
def test_unicode_survives(make: Any) -> None:
    document = make(ACCOUNT, [entry(1, title="Ünïcødé — 你好 🎉")], self_url=ATOM_URL)
    assert parse(document).entries[0].title == "Ünïcødé — 你好 🎉"


def test_empty_feeds_are_valid() -> None:
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    atom = atom_feed(ACCOUNT, [], self_url=ATOM_URL, updated=moment)
    rss = rss_feed(ACCOUNT, [], self_url=RSS_URL, updated=moment)
    assert parse(atom).feed.updated == "2025-01-01T00:00:00Z"
    assert parse(rss).entries == []
    assert parse(atom_feed(ACCOUNT, [], self_url=ATOM_URL)).feed.title == "Daily News"


def test_rss_description_falls_back_when_there_is_no_bio() -> None:
    account = FeedAccount("daily_news", "Daily News", "", ACCOUNT.url)
    assert parse(rss_feed(account, [], self_url=RSS_URL)).feed.subtitle == "Articles by Daily News"


def test_naive_dates_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone"):
        atom_feed(ACCOUNT, [entry(1, published=datetime(2025, 1, 1))], self_url=ATOM_URL)


def test_tag_uri() -> None:
    assert tag_uri("Kabar.Example", date(2025, 1, 2), "article/a_x") == (
        "tag:kabar.example,2025-01-02:article/a_x"
    )
    with pytest.raises(ValueError, match="domain"):
        tag_uri("not a domain", date(2025, 1, 2), "x")


def test_documents_are_deterministic() -> None:
    assert feeds(ENTRIES) == feeds(ENTRIES)
