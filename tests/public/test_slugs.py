"""Slugs and handles: URL-safe, stable, never empty, never reserved."""

from __future__ import annotations

import pytest

from kabar.errors import ErrorCode, InvalidRequest
from kabar.public.slugs import (
    MAX_SLUG_LENGTH,
    RESERVED_HANDLES,
    is_valid_handle,
    is_valid_slug,
    normalize_handle,
    slugify,
    unique_slug,
    validate_slug,
)


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("Crème brûlée, 2nd try", "creme-brulee-2nd-try"),
        ("Don't panic — it's fine", "dont-panic-its-fine"),
        ("Straße über den Øresund", "strasse-uber-den-oresund"),
        ("Łódź i Kraków", "lodz-i-krakow"),
        ("Привет, мир", "privet-mir"),
        ("Ελληνικά νέα", "ellinika-nea"),
        ("  --Already-a-slug--  ", "already-a-slug"),
        ("ＦＵＬＬ width", "full-width"),
        ("C++ & Rust: 10× faster?", "c-rust-10x-faster"),
    ],
)
def test_slugify_transliterates_and_hyphenates(title: str, slug: str) -> None:
    assert slugify(title) == slug
    assert is_valid_slug(slug)


def test_slug_of_untransliterable_title_is_stable_and_distinct() -> None:
    first, second = slugify("你好世界"), slugify("مرحبا بالعالم")
    assert first.startswith("article-")
    assert second.startswith("article-")
    assert first != second
    assert slugify("你好世界") == first
    assert is_valid_slug(first)


@pytest.mark.parametrize("title", ["", "   ", "!!!", "—"])
def test_slug_is_never_empty(title: str) -> None:
    slug = slugify(title)
    assert slug
    assert is_valid_slug(slug)


def test_long_titles_are_cut_at_a_word_boundary() -> None:
    slug = slugify("internationalisation " * 10)
    assert len(slug) <= MAX_SLUG_LENGTH
    assert slug.split("-") == ["internationalisation"] * 3
    assert len(slugify("x" * 200)) == MAX_SLUG_LENGTH


def test_unique_slug_returns_base_when_free() -> None:
    assert unique_slug("hello", lambda _: False) == "hello"


def test_unique_slug_counts_up_past_taken_ones() -> None:
    taken = {"hello", "hello-2", "hello-3"}
    assert unique_slug("hello", taken.__contains__) == "hello-4"


def test_unique_slug_treats_reserved_slugs_as_taken() -> None:
    assert unique_slug("feed", lambda _: False) == "feed-2"


def test_unique_slug_with_suffix_stays_within_the_length_limit() -> None:
    base = slugify("y" * 200)
    slug = unique_slug(base, lambda candidate: candidate == base)
    assert slug.endswith("-2")
    assert len(slug) <= MAX_SLUG_LENGTH


def test_unique_slug_falls_back_to_random_suffix_after_many_collisions() -> None:
    asked: list[str] = []

    def taken(candidate: str) -> bool:
        asked.append(candidate)
        return candidate == "busy" or candidate[len("busy-") :].isdecimal()

    slug = unique_slug("busy", taken)
    assert slug.startswith("busy-")
    assert is_valid_slug(slug)
    assert not taken(slug)
    assert len(asked) < 60


@pytest.mark.parametrize("slug", ["ok", "a-b-c", "2024-review"])
def test_validate_slug_accepts_good_slugs(slug: str) -> None:
    assert validate_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "Upper", "a--b", "-a", "a-", "a_b", "é", "feed", "x" * 81])
def test_validate_slug_refuses_bad_or_reserved_slugs(slug: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_slug(slug)
    assert caught.value.data == {"field": "slug"}


@pytest.mark.parametrize(
    ("raw", "handle"),
    [("@Daily_News", "daily_news"), ("abc", "abc"), ("A1_", "a1_"), ("x" * 30, "x" * 30)],
)
def test_normalize_handle_folds_case_and_strips_at(raw: str, handle: str) -> None:
    assert normalize_handle(raw) == handle
    assert is_valid_handle(raw)


@pytest.mark.parametrize(
    "raw",
    ["ab", "x" * 31, "has space", "dash-ed", "dot.ted", "@@double", "ünï", "\u212aabar", "", "@"],
)
def test_normalize_handle_refuses_malformed_handles(raw: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_handle(raw)
    assert caught.value.code == ErrorCode.INVALID_REQUEST
    assert not is_valid_handle(raw)


@pytest.mark.parametrize(
    "raw",
    ["admin", "API", "@app", "explore", "transparency", "Kabar", "static", "media", "feed"]
    + ["login", "register", "settings", "moderation", "about", "help"],
)
def test_reserved_handles_are_refused_in_any_case(raw: str) -> None:
    with pytest.raises(InvalidRequest, match="reserved"):
        normalize_handle(raw)


def test_short_reserved_words_are_refused_too() -> None:
    assert not is_valid_handle("v1")


def test_every_reserved_handle_is_refused() -> None:
    for word in RESERVED_HANDLES:
        assert not is_valid_handle(word)
        assert not is_valid_handle(word.upper())
