"""Naming an article the way people pass it around: page URLs, API URLs, @handle/slug."""

from __future__ import annotations

import pytest

from kabar.client import InvalidReference, locate
from kabar.client.public_reader import ArticleLocation

SERVER = "https://news.example"
BUDGET = ArticleLocation(SERVER, "daily_news", "budget-2025")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (f"{SERVER}/@Daily_News/budget-2025", BUDGET),
        (f"{SERVER}/@daily_news/budget-2025/", BUDGET),
        (
            f"{SERVER}/@daily_news/budget-2025/history?revision=3",
            ArticleLocation(SERVER, "daily_news", "budget-2025", revision=3),
        ),
        (
            "http://127.0.0.1:8000/v1/public/accounts/daily_news/articles/budget-2025",
            ArticleLocation("http://127.0.0.1:8000", "daily_news", "budget-2025"),
        ),
        (f"{SERVER}/v1/public/articles/r_abc", ArticleLocation(SERVER, article_id="r_abc")),
        (
            f"{SERVER}/v1/public/articles/r_abc/revisions/2",
            ArticleLocation(SERVER, article_id="r_abc", revision=2),
        ),
        ("@daily_news/budget-2025", BUDGET),
        ("daily_news/budget-2025", BUDGET),
    ],
)
def test_locate_reads_pages_api_urls_and_short_references(
    reference: str, expected: ArticleLocation
) -> None:
    assert locate(reference, SERVER + "/") == expected


@pytest.mark.parametrize(
    "reference",
    [f"{SERVER}/about", f"{SERVER}/@daily_news", "budget-2025", "@a/b c", "https:///@a/b"],
)
def test_what_names_no_article_is_refused_before_any_request(reference: str) -> None:
    with pytest.raises(InvalidReference):
        locate(reference, SERVER)


def test_a_short_reference_needs_a_server() -> None:
    with pytest.raises(InvalidReference, match="needs a server"):
        locate("@daily_news/budget-2025")
