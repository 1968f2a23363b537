"""The URL rules and allow-list that every article's HTML passes through."""

from __future__ import annotations

import pytest

from kabar.public.sanitise import is_allowed_image_src, is_allowed_link, sanitise_html


@pytest.mark.parametrize(
    "url",
    ["https://example.com/x", "http://example.com", "mailto:a@example.com", "/@news/a", "#top"]
    + ["other-article", "?page=2", "//example.com/x"],
)
def test_allowed_links(url: str) -> None:
    assert is_allowed_link(url)


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)", "vbscript:x"]
    + ["data:text/html,x", "file:///etc/passwd", "ftp://example.com", "javascript%3Aalert(1)"],
)
def test_refused_links(url: str) -> None:
    assert not is_allowed_link(url)


@pytest.mark.parametrize(
    "url", ["https://img.example/a.png", "http://img.example/a.png", "/media/ab/cd.webp"]
)
def test_allowed_image_sources(url: str) -> None:
    assert is_allowed_image_src(url)


@pytest.mark.parametrize(
    "url",
    ["data:image/png;base64,AA", "javascript:alert(1)", "a.png", "/v1/logout", "//evil.example/a"]
    + ["/media/../v1/logout", "/media/%2e%2e/v1/logout", "/media/a\\..\\b", "https:///nohost"]
    + [" /media/a.png", "/media/a\n.png", "mailto:x@example.com", "blob:https://x/y"],
)
def test_refused_image_sources(url: str) -> None:
    assert not is_allowed_image_src(url)


def test_ids_and_fragment_links_are_namespaced() -> None:
    html = sanitise_html('<h2 id="intro">I</h2><a href="#intro">go</a><a href="#">top</a>')
    assert html == (
        '<h2 id="md-intro">I</h2>'
        '<a href="#md-intro" rel="nofollow noopener ugc">go</a>'
        '<a href="#" rel="nofollow noopener ugc">top</a>'
    )


def test_unknown_classes_are_dropped_known_ones_kept() -> None:
    html = sanitise_html(
        '<code class="language-py evil">x</code>'
        '<table><tr><td class="align-left x">y</td><td class="z">z</td></tr></table>'
    )
    assert '<code class="language-py">x</code>' in html
    assert '<td class="align-left">y</td><td>z</td>' in html


def test_dangerous_containers_are_dropped_with_their_content() -> None:
    assert sanitise_html("a<script>b</script><style>c</style><svg><text>d</text></svg>e") == "ae"
