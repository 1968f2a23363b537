"""Ordinary Markdown renders as a reader expects, and the facts about it are right."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from kabar.errors import InvalidRequest, PayloadTooLarge
from kabar.public.render import MAX_MARKDOWN_BYTES, render_article


class Tree(HTMLParser):
    """A flat record of (tag, attributes) plus the text found inside each tag name."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.text_in: dict[str, str] = {}
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag not in {"img", "input", "br", "hr"}:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        for tag in set(self.open):
            self.text_in[tag] = self.text_in.get(tag, "") + data

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]


def test_emphasis_and_paragraphs() -> None:
    tree = Tree(render_article("Hello *there* and **you** and ~~gone~~.\n\nSecond.").html)
    assert [tag for tag, _ in tree.elements] == ["p", "em", "strong", "s", "p"]
    assert tree.text_in["em"] == "there"
    assert tree.text_in["s"] == "gone"


def test_headings_get_stable_unique_ids() -> None:
    article = "# Intro\n\n## Set-up & use\n\n## Set-up & use\n\n### Überblick\n\n## 你好\n"
    tree = Tree(render_article(article).html)
    ids = [attrs["id"] for tag, attrs in tree.elements if tag.startswith("h")]
    assert ids[:4] == ["md-intro", "md-set-up-use", "md-set-up-use-2", "md-uberblick"]
    assert str(ids[4]).startswith("md-section-")
    assert render_article(article).html == render_article(article).html


def test_heading_ids_never_collide_with_footnote_ids() -> None:
    tree = Tree(render_article("## fn1\n\nText[^a]\n\n[^a]: Note.").html)
    ids = [attrs["id"] for _, attrs in tree.elements if "id" in attrs]
    assert len(ids) == len(set(ids))


def test_fragment_links_point_at_existing_ids() -> None:
    html = render_article("See [below](#details).\n\n## Details\n\nText[^n].\n\n[^n]: A note.").html
    tree = Tree(html)
    ids = {attrs["id"] for _, attrs in tree.elements if "id" in attrs}
    fragments = [str(a["href"]) for a in tree.all("a") if str(a.get("href")).startswith("#")]
    assert fragments
    assert all(href[1:] in ids for href in fragments)


def test_title_is_the_first_top_level_h1() -> None:
    article = render_article("> # Quoted\n\nIntro.\n\n# The *Real* Title\n\n# Another\n")
    assert article.title == "The Real Title"
    assert render_article("## Only a subheading\n\nText.").title is None


def test_table_with_alignment_classes_instead_of_styles() -> None:
    tree = Tree(render_article("| Left | Right |\n|:-----|------:|\n| a | `b` |\n").html)
    assert [a.get("class") for a in tree.all("th")] == ["align-left", "align-right"]
    assert [a.get("class") for a in tree.all("td")] == ["align-left", "align-right"]
    assert tree.text_in["td"] == "ab"


def test_footnotes_link_both_ways() -> None:
    tree = Tree(render_article("Claim[^src].\n\n[^src]: The *source*.").html)
    ref = next(a for a in tree.all("a") if a.get("href") == "#md-fn1")
    assert ref["id"] == "md-fnref1"
    assert any(li.get("id") == "md-fn1" for li in tree.all("li"))
    assert any(a.get("href") == "#md-fnref1" for a in tree.all("a"))
    assert "The source." in tree.text_in["section"]


def test_code_block_shows_script_as_text() -> None:
    html = render_article("```html\n<script>alert('hi')</script>\n```\n\nand `<b>` inline").html
    tree = Tree(html)
    assert tree.all("code")[0]["class"] == "language-html"
    assert tree.text_in["pre"] == "<script>alert('hi')</script>\n"
    assert "<b>" in tree.text_in["code"]
    assert "script" not in [tag for tag, _ in tree.elements]


def test_raw_html_is_shown_not_interpreted() -> None:
    tree = Tree(render_article('A <b>bold</b> claim <span style="x">here</span>.').html)
    assert [tag for tag, _ in tree.elements] == ["p"]
    assert tree.text_in["p"] == 'A <b>bold</b> claim <span style="x">here</span>.'


def test_links_keep_their_target_and_get_rel() -> None:
    article = "[web](https://example.com/a?b=1) [mail](mailto:me@example.com) [local](/@news/x)"
    links = Tree(render_article(article).html).all("a")
    assert [a["href"] for a in links] == [
        "https://example.com/a?b=1",
        "mailto:me@example.com",
        "/@news/x",
    ]
    assert all(a["rel"] == "nofollow noopener ugc" for a in links)


def test_autolinks_are_links() -> None:
    links = Tree(render_article("<https://example.com/x>").html).all("a")
    assert links[0]["href"] == "https://example.com/x"


def test_images_from_allowed_places_and_their_list() -> None:
    article = (
        "![a](/media/p/cat.webp) ![b](https://img.example/dog.jpg)\n\n"
        "![c](/media/p/cat.webp) ![d](relative.png) ![e](/etc/passwd)"
    )
    rendered = render_article(article)
    tree = Tree(rendered.html)
    assert [img["src"] for img in tree.all("img")] == [
        "/media/p/cat.webp",
        "https://img.example/dog.jpg",
        "/media/p/cat.webp",
    ]
    assert tree.all("img")[0]["alt"] == "a"
    assert tree.all("img")[0]["loading"] == "lazy"
    assert rendered.images == ("/media/p/cat.webp", "https://img.example/dog.jpg")
    assert tree.text_in["p"].split() == ["a", "b", "c", "d", "e"][3:]


def test_task_lists_render_disabled_checkboxes() -> None:
    inputs = Tree(render_article("- [ ] open\n- [x] done\n").html).all("input")
    assert [i.get("type") for i in inputs] == ["checkbox", "checkbox"]
    assert all("disabled" in i for i in inputs)
    assert ["checked" in i for i in inputs] == [False, True]


def test_summary_skips_the_title_and_footnotes_and_is_short() -> None:
    body = " ".join(["word"] * 200)
    rendered = render_article(f"# Title\n\nFirst para[^n].\n\n{body}\n\n[^n]: Footnote text.")
    assert rendered.summary.startswith("First para. word word")
    assert "Title" not in rendered.summary
    assert "Footnote" not in rendered.summary
    assert len(rendered.summary) <= 300
    assert rendered.summary.endswith("…")


def test_summary_of_a_short_article_is_whole() -> None:
    assert render_article("# T\n\nJust   this\nline.").summary == "Just this line."


def test_summary_falls_back_to_other_text_without_paragraphs() -> None:
    assert render_article("# T\n\n| only | table |\n|-|-|\n| a | b |").summary == "only table a b"


@pytest.mark.parametrize(
    ("words", "minutes"),
    [(0, 1), (10, 1), (230, 1), (400, 2), (460, 2), (2300, 10)],
)
def test_reading_time_at_230_words_per_minute(words: int, minutes: int) -> None:
    rendered = render_article(" ".join(["word"] * words))
    assert rendered.word_count == words
    assert rendered.reading_minutes == minutes


def test_word_count_ignores_markup_and_punctuation() -> None:
    rendered = render_article("# Two words\n\n**Three** [more](https://x.example) — words!")
    assert rendered.word_count == 5


def test_word_count_counts_cjk_characters() -> None:
    assert render_article("你好世界").word_count == 4


def test_markdown_at_the_limit_renders() -> None:
    line = "word " * 19 + "\n"  # 96 bytes
    article = line * (MAX_MARKDOWN_BYTES // len(line))
    assert render_article(article).word_count > 200_000


def test_markdown_over_the_limit_is_refused() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        render_article("é" * (MAX_MARKDOWN_BYTES // 2 + 1))  # 2 bytes each in UTF-8
    assert caught.value.data["limit"] == MAX_MARKDOWN_BYTES


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        render_article("bad \ud800 text")


def test_empty_article() -> None:
    rendered = render_article("")
    assert (rendered.html, rendered.title, rendered.summary, rendered.images) == ("", None, "", ())
    assert rendered.reading_minutes == 1


def test_alt_text_is_plain_text_whether_the_image_is_kept_or_not() -> None:
    tree = Tree(render_article("![a *b* `c`](notes.png) ![d **e**](/media/x.png)").html)
    assert tree.all("img")[0]["alt"] == "d e"
    assert tree.text_in["p"].strip() == "a b c"
