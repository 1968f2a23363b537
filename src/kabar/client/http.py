"""The HTTP transport: one httpx client per server, problem documents turned into errors.

Retries are for transient failures only — no connection, a timeout, 502/503/504,
or 429 (honouring ``Retry-After``) — and only for requests that are safe to
repeat: reads, and writes kabar makes idempotent with a transaction id (message
sends, to-device sends). Everything else fails at once with the server's
answer.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import httpx

from kabar.client.backoff import Backoff
from kabar.client.errors import ApiError, ServerUnreachable

RETRY_STATUSES = frozenset({429, 502, 503, 504})
USER_AGENT = "kabar-sdk/0.1"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once per process and shared by every client.

    httpx builds one per client by default, loading the whole CA bundle each time
    (~15-30 ms of CPU), which the SDK paid for every session it opened.
    """
    return httpx.create_ssl_context()


class HttpTransport:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        attempts: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._attempts = attempts
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            verify=tls_context(),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        retry: bool = False,
        read_timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request (retrying transient failures if ``retry``); raise on a problem."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        backoff = Backoff(base=0.2, cap=5.0)
        attempts = self._attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                response = await self._client.request(
                    method,
                    path,
                    json=json,
                    params=params,
                    content=content,
                    headers=headers,
                    timeout=read_timeout if read_timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise ServerUnreachable(f"cannot reach {self.base_url}: {exc!r}") from exc
                await asyncio.sleep(backoff.next_delay())
                continue
            if response.status_code in RETRY_STATUSES and attempt < attempts:
                await asyncio.sleep(_retry_after(response) or backoff.next_delay())
                continue
            if response.status_code >= 400:
                raise ApiError.from_problem(response.status_code, _json_or_none(response))
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return min(float(value), 30.0) if value.isdigit() else None
