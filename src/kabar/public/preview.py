"""Editor previews: Markdown rendered exactly as a published article would be.

The browser's editor shows a live preview; rendering it here, with the very renderer
and sanitiser publishing uses (:func:`kabar.public.render.render_article`), means the
preview cannot differ from what readers will see, and the app needs no Markdown or
HTML-sanitising code of its own (docs/web.md). Nothing is stored. Rendering runs on
the worker threads and is rate-limited per account (``rate_limits.preview_per_account``)
because each call may render up to 1 MiB of Markdown.
"""

from __future__ import annotations

from kabar.accounts.models import Principal
from kabar.accounts.ratelimit import RateLimiter
from kabar.config import Config
from kabar.public.render import RenderedArticle, render_article
from kabar.public.text import storable
from kabar.workers import Workers


class PreviewService:
    def __init__(self, workers: Workers, limiter: RateLimiter, config: Config) -> None:
        self._workers = workers
        self._limiter = limiter
        self._config = config

    async def render(self, principal: Principal, markdown: str) -> RenderedArticle:
        """``markdown`` rendered and sanitised (RateLimited, PayloadTooLarge, InvalidRequest)."""
        await self._limiter.hit(
            "preview", principal.account_id, self._config.rate_limits.preview_per_account
        )
        return await self._workers.run(render_article, storable(markdown, field="markdown"))
