"""An article as plain text: inline text of Markdown tokens, summary, word count, reading time.

Used by the renderer to fill a :class:`~kabar.public.render.RenderedArticle`'s
``summary`` (shown in feeds, OpenGraph tags and article lists),
``word_count`` and ``reading_minutes``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from markdown_it.token import Token

SUMMARY_LENGTH = 300
WORDS_PER_MINUTE = 230

_WHITESPACE = re.compile(r"\s+")
# Chinese and Japanese are written without spaces: count each ideograph or kana
# as a word (a common approximation), everything else by whitespace-separated runs.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")
_HAS_ALNUM = re.compile(r"[^\W_]")


def inline_text(token: Token) -> str:
    """The readable text of an ``inline`` token: text, code and image alt text, not markup.

    Alt text counts because it is what a screen reader reads in the image's
    place. Footnote markers (``[1]``) are not text.
    """
    return plain_text(token.children or ())


def plain_text(children: Sequence[Token]) -> str:
    """The readable text of a run of inline tokens (see :func:`inline_text`)."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(plain_text(child.children or ()))
    return "".join(parts)


def count_words(text: str) -> int:
    """Words in ``text``; runs of punctuation alone (``—``, ``=``) are not words."""
    return sum(1 for word in _WORD.findall(text) if _HAS_ALNUM.search(word))


def reading_minutes(word_count: int) -> int:
    """Minutes to read ``word_count`` words at :data:`WORDS_PER_MINUTE`; at least 1."""
    return max(1, math.floor(word_count / WORDS_PER_MINUTE + 0.5))


def summarise(text: str, limit: int = SUMMARY_LENGTH) -> str:
    """``text`` with whitespace collapsed, cut to at most ``limit`` characters.

    A cut ends at a word boundary (unless that would lose more than a third)
    and is marked with ``…``, which counts towards the limit.
    """
    flat = _WHITESPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    window = flat[:limit]
    boundary = window.rfind(" ")
    cut = window[:boundary] if boundary >= limit * 2 // 3 else window[: limit - 1]
    return cut.rstrip(" ,;:.-–—") + "…"
