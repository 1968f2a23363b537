"""Article Markdown → sanitised HTML, plus what pages and feeds need to know about it.

The dialect is CommonMark with tables, strikethrough, footnotes and task
lists (markdown-it-py and mdit-py-plugins). Raw HTML is *off*: ``<b>`` in an
article is shown as text. Links must be http(s), mailto or relative (others
stay literal text); images must be http(s) or ``/media/…`` (others are
replaced by their alt text). Headings get stable ids (slugs of their text,
``-2``, ``-3`` … on repeats). The result then passes the allow-list of
:mod:`kabar.public.sanitise` anyway, so a parser bug cannot become an XSS.

Alongside the HTML, :func:`render_article` extracts the title (first
top-level H1), a plain-text summary, a word count, the reading time and the
image URLs the article shows. See ``docs/public-accounts.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from kabar.errors import ErrorCode, InvalidRequest, PayloadTooLarge
from kabar.public import excerpt
from kabar.public.sanitise import is_allowed_image_src, is_allowed_link, sanitise_html
from kabar.public.slugs import slugify

MAX_MARKDOWN_BYTES = 1024 * 1024

# Ids the footnote plugin generates; a heading must not take one.
_FOOTNOTE_ID = re.compile(r"fn(?:ref)?\d+")
_ALIGNMENT = re.compile(r"text-align:(left|center|right)")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class RenderedArticle:
    html: str
    """Sanitised HTML fragment, safe to embed in a page as is."""
    title: str | None
    """Plain text of the first top-level H1, if any (the H1 stays in ``html``)."""
    summary: str
    """Plain text of the opening paragraphs, at most ~300 characters."""
    word_count: int
    reading_minutes: int
    images: tuple[str, ...]
    """Image URLs shown in ``html``, in order of first appearance, without repeats."""


class _ArticleMarkdown(MarkdownIt):
    """CommonMark whose link check is our allow-list, not markdown-it's deny-list."""

    def __init__(self) -> None:
        super().__init__("commonmark", {"html": False, "linkify": False, "typographer": False})
        self.enable(["table", "strikethrough"])
        self.use(footnote_plugin)
        self.use(tasklists_plugin)

    def validateLink(self, url: str) -> bool:  # markdown-it's name; applies to images too
        return is_allowed_link(url)


_MARKDOWN = _ArticleMarkdown()


def render_article(markdown: str) -> RenderedArticle:
    """Render an article's Markdown. Pure and deterministic.

    Raises :class:`PayloadTooLarge` above :data:`MAX_MARKDOWN_BYTES` of UTF-8
    and :class:`InvalidRequest` for text that is not valid Unicode (lone
    surrogates, which JSON can smuggle in as ``\\ud800`` escapes).
    """
    _check_input(markdown)
    env: dict[str, Any] = {}
    tokens = _MARKDOWN.parse(markdown, env)
    facts = _prepare(tokens)
    html = sanitise_html(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env))
    text = " ".join(facts.text)
    words = excerpt.count_words(text)
    return RenderedArticle(
        html=html,
        title=facts.title,
        summary=excerpt.summarise(" ".join(facts.prose or facts.other)),
        word_count=words,
        reading_minutes=excerpt.reading_minutes(words),
        images=tuple(dict.fromkeys(facts.images)),
    )


def _check_input(markdown: str) -> None:
    if _SURROGATE.search(markdown):
        raise InvalidRequest(
            "markdown is not valid Unicode (it contains lone surrogates)",
            code=ErrorCode.INVALID_REQUEST,
            data={"field": "markdown"},
        )
    size = len(markdown.encode("utf-8"))
    if size > MAX_MARKDOWN_BYTES:
        raise PayloadTooLarge(
            f"markdown is {size} bytes; the limit is {MAX_MARKDOWN_BYTES}",
            data={"field": "markdown", "limit": MAX_MARKDOWN_BYTES},
        )


@dataclass
class _Facts:
    """What one pass over the token stream learns (and fixes) about an article."""

    title: str | None = None
    prose: list[str] = field(default_factory=list)  # paragraphs outside footnotes
    other: list[str] = field(default_factory=list)  # headings, table cells … (not the title)
    text: list[str] = field(default_factory=list)  # everything readable, for the word count
    images: list[str] = field(default_factory=list)
    heading_ids: set[str] = field(default_factory=set)


def _prepare(tokens: list[Token]) -> _Facts:
    """Give headings ids, turn alignment styles into classes, drop unsafe images; collect facts."""
    facts = _Facts()
    footnote_depth = 0
    for index, token in enumerate(tokens):
        if token.type == "footnote_block_open":
            footnote_depth += 1
        elif token.type == "footnote_block_close":
            footnote_depth -= 1
        elif token.type in ("th_open", "td_open"):
            _alignment_to_class(token)
        elif token.type == "heading_open":
            _heading(token, tokens[index + 1], facts)
        elif token.type in ("fence", "code_block"):
            facts.text.append(token.content)
        elif token.type == "inline":
            _keep_safe_images(token, facts.images)
            text = excerpt.inline_text(token)
            facts.text.append(text)
            if footnote_depth == 0 and tokens[index - 1].type == "paragraph_open":
                facts.prose.append(text)
            elif footnote_depth == 0 and tokens[index - 1].type != "heading_open":
                facts.other.append(text)
    return facts


def _heading(token: Token, inline: Token, facts: _Facts) -> None:
    text = excerpt.inline_text(inline)
    slug = base = slugify(text, fallback="section")
    repeat = 1
    while slug in facts.heading_ids or _FOOTNOTE_ID.fullmatch(slug):
        repeat += 1
        slug = f"{base}-{repeat}"
    facts.heading_ids.add(slug)
    token.attrSet("id", slug)
    if facts.title is None and token.tag == "h1" and token.level == 0 and text.strip():
        facts.title = text.strip()
    else:
        facts.other.append(text)


def _alignment_to_class(token: Token) -> None:
    """Tables align cells with ``style``, which the sanitiser forbids; use a class."""
    style = token.attrs.pop("style", None)
    match = _ALIGNMENT.fullmatch(str(style)) if style is not None else None
    if match:
        token.attrSet("class", f"align-{match.group(1)}")


def _keep_safe_images(inline: Token, images: list[str]) -> None:
    """Record allowed images; show the alt text of the others instead of a broken image."""
    children = inline.children or []
    for position, child in enumerate(children):
        if child.type != "image":
            continue
        src = str(child.attrs.get("src", ""))
        if is_allowed_image_src(src):
            images.append(src)
        else:
            alt = excerpt.plain_text(child.children or ())
            children[position] = Token("text", "", 0, content=alt)
