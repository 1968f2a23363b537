"""The editor's preview: the publishing renderer and sanitiser, signed in, rate-limited."""

from __future__ import annotations

import pytest

from kabar.public.render import render_article
from support.api import Api, ApiError

MARKDOWN = """# A title

Some *text* with [a link](https://example.org) and <script>alert(1)</script>.

[bad](javascript:alert(1))
"""


async def test_a_preview_is_exactly_what_publishing_would_render(api: Api) -> None:
    user = await api.register()
    shown = await api.call("POST", "/v1/public/preview", user, json={"markdown": MARKDOWN})
    rendered = render_article(MARKDOWN)
    assert shown["html"] == rendered.html
    assert shown["title"] == "A title"
    assert shown["word_count"] == rendered.word_count
    assert "<script" not in shown["html"]
    assert 'href="javascript' not in shown["html"]
    assert '<a href="https://example.org"' in shown["html"]


async def test_a_preview_needs_a_session_and_valid_text(api: Api) -> None:
    with pytest.raises(ApiError) as anonymous:
        await api.call("POST", "/v1/public/preview", None, json={"markdown": "hi"})
    assert anonymous.value.status == 401
    user = await api.register()
    with pytest.raises(ApiError) as nul:
        await api.call("POST", "/v1/public/preview", user, json={"markdown": "a\x00b"})
    assert (nul.value.status, nul.value.code) == (400, "invalid_request")


async def test_previews_are_rate_limited_per_account(make_server) -> None:  # noqa: ANN001
    async with make_server(rate_limits={"enabled": True, "preview_per_account": "3/min"}) as server:
        api = Api(server.base_url)
        writer, other = await api.register(), await api.register()
        for _ in range(3):
            await api.call("POST", "/v1/public/preview", writer, json={"markdown": "# x"})
        with pytest.raises(ApiError) as limited:
            await api.call("POST", "/v1/public/preview", writer, json={"markdown": "# x"})
        assert (limited.value.status, limited.value.code) == (429, "rate_limited")
        await api.call("POST", "/v1/public/preview", other, json={"markdown": "# x"})
        await api.close()
