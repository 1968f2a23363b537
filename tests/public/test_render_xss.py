"""Hostile input never yields active content, whether it arrives as Markdown or as raw HTML.

Every payload is rendered as an article *and* fed straight to the sanitiser
(as if the Markdown parser had let it through), and the output is audited
with a real HTML parser: every tag, every attribute, every URL.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from kabar.public.render import render_article
from kabar.public.sanitise import sanitise_html

# What may appear at all; the audit's own list, independent of the module's.
SAFE_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "hr", "img", "input", "li", "ol", "p", "pre",
    "s", "section", "strong", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
NEVER_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "form", "style", "frame"}
NEVER_ATTRIBUTES = {"style", "srcset", "formaction", "action", "background", "data", "xmlns"}
LINK_SCHEMES = {"http", "https", "mailto"}
IMAGE_SCHEMES = {"http", "https"}
SCRIPTING_SCHEMES = {"javascript", "vbscript", "data"}

PAYLOADS = [
    # <script> in all its spellings
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    '<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=http://xss.example/xss.js?< B >",
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    # images and event handlers
    "<img src=x onerror=alert(1)>",
    "<ImG sRc=x OnErRoR=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    "<img src=x:alert(alt) onerror=eval(src) alt=xss>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;"
    "&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112"
    "&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000049&#0000041>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74"
    "&#x28&#x31&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    '<IMG SRC=java\x00script:alert("XSS")>',
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<img srcset="javascript:alert(1)">',
    '<img src="x" style="x:expression(alert(\'XSS\'))">',
    # other elements that run things
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<math href="javascript:alert(1)">CLICK</math>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<iframe src=http://xss.example/scriptlet.html <",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>',
    '<object data="javascript:alert(1)"></object>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2Zz4=" type="image/svg+xml" '
    'AllowScriptAccess="always"></EMBED>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<isindex action="javascript:alert(1)" type=image>',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "<input type=text autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<video><source onerror="alert(1)">',
    "<audio src=x onerror=alert(1)>",
    "<body onpageshow=alert(1)>",
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<marquee onstart=alert(1)>",
    '<base href="javascript:alert(1)//">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    # style-based
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    '<xss style="behavior:url(x.htc)">',
    # links in HTML
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="jAvAsCrIpT&colon;alert(1)">x</a>',
    '<a href="javascript&#x3A;alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<a href=# onclick=alert(1)>x</a>",
    '<a href="https://ok.example" formaction="javascript:alert(1)">x</a>',
    '<div class="footnotes" id="x" onmouseover="alert(1)">x</div>',
    # links in Markdown
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1))",
    "[x](javascript://%0aalert(1))",
    "[x](\x00javascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '[x](https://example.com "t\\" onmouseover=\\"alert(1)")',
    "[<img src=x onerror=alert(1)>](https://example.com)",
    "[![x](javascript:alert(1))](javascript:alert(2))",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    '[x][r]\n\n[r]: javascript:alert(1) "title"',
    "[r]\n\n[r]: <data:text/html,<script>alert(1)</script>>",
    # images in Markdown
    "![x](javascript:alert(1))",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x" onerror="alert(1)](https://example.com/a.png)',
    '![x](https://example.com/a.png" onerror="alert(1))',
    "![x](//evil.example/a.png)",
    "![x](/media/../v1/logout)",
    "![x](/media/%2e%2e/v1/logout)",
    "![x][i]\n\n[i]: javascript:alert(1)",
    # HTML where Markdown puts it: footnotes, tables, headings, code
    "x[^1]\n\n[^1]: <script>alert(1)</script> [y](javascript:alert(1))",
    "x[^<img src=x onerror=alert(1)>]\n\n[^<img src=x onerror=alert(1)>]: note",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "| [x](javascript:alert(1)) | b |\n|---|---|\n| <svg onload=alert(1)> | c |",
    "# <img src=x onerror=alert(1)>",
    "`<script>alert(1)</script>`",
    '```" onclick="alert(1)\n<script>alert(1)</script>\n```',
    "- [ ] <script>alert(1)</script>\n- [x] [y](javascript:alert(1))",
]


class Audit(HTMLParser):
    """Collect every rule the HTML breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in NEVER_TAGS or tag not in SAFE_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            self._attribute(tag, name, value or "")
        if tag == "input" and (("type", "checkbox") not in attrs or "disabled" not in dict(attrs)):
            self.problems.append(f"interactive input {attrs}")

    handle_startendtag = handle_starttag

    def _attribute(self, tag: str, name: str, value: str) -> None:
        if name.startswith("on") or name in NEVER_ATTRIBUTES or ":" in name:
            self.problems.append(f"attribute {name}= on <{tag}>")
        if name in {"href", "src"} and browser_scheme(unquote(value)) in SCRIPTING_SCHEMES:
            self.problems.append(f"{name}={value!r} on <{tag}> decodes to a scripting URL")
        if name == "href" and browser_scheme(value) not in LINK_SCHEMES | {None}:
            self.problems.append(f"href {value!r}")
        if name == "src" and not (
            browser_scheme(value) in IMAGE_SCHEMES or value.startswith("/media/")
        ):
            self.problems.append(f"src {value!r}")


def browser_scheme(url: str) -> str | None:
    """The scheme as a browser parses it: C0/space trimmed, tabs and newlines removed."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(0x21))))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else None


def audit(html: str) -> list[str]:
    parser = Audit()
    parser.feed(html)
    parser.close()
    return parser.problems


def test_the_corpus_is_big_enough() -> None:
    assert len(PAYLOADS) >= 60
    assert len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_payload_renders_inert(payload: str) -> None:
    assert audit(render_article(payload).html) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_as_raw_html_is_sanitised(payload: str) -> None:
    assert audit(sanitise_html(payload)) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_inside_markdown_structure_renders_inert(payload: str) -> None:
    article = f"# Title\n\n> {payload}\n\n- item {payload}\n\n| h |\n|---|\n| {payload} |\n"
    assert audit(render_article(article).html) == []


def test_the_audit_catches_what_it_must() -> None:
    """The audit itself is tested: unsanitised payloads fail it."""
    assert audit("<script>alert(1)</script>")
    assert audit("<img src=x onerror=alert(1)>")
    assert audit('<a href="jav&#x09;ascript:alert(1)">x</a>')
    assert audit('<p style="color:red">x</p>')
    assert audit('<img src="data:image/png;base64,AA">')
    assert audit("<input type=text>")
    assert audit("<svg></svg>")
    assert audit('<a href="https://example.com">ok</a>') == []


def test_rejected_image_leaves_its_alt_text_and_no_img() -> None:
    html = render_article("![a cat](javascript:alert(1)) ![a dog](notes/dog.png)").html
    assert "<img" not in html
    assert "a dog" in html


def test_hostile_link_text_survives_as_text() -> None:
    html = render_article("[click me](javascript:alert(1))").html
    assert "<a" not in html
    assert "click me" in html
