"""The SDK's transport: problem documents become errors; only safe requests are retried."""

from __future__ import annotations

import random

import httpx
import pytest

from kabar.client.backoff import Backoff
from kabar.client.errors import ApiError, ServerUnreachable, SignedOut
from kabar.client.http import HttpTransport


def _transport(answers: list[httpx.Response | Exception], seen: list[httpx.Request]):  # noqa: ANN202
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle)


PROBLEM = {"type": "t", "title": "x", "status": 409, "code": "quota_exceeded", "detail": "full"}


async def test_a_problem_document_becomes_an_api_error_with_its_code() -> None:
    seen: list[httpx.Request] = []
    http = HttpTransport(
        "http://kabar.test", "tok", transport=_transport([httpx.Response(409, json=PROBLEM)], seen)
    )
    with pytest.raises(ApiError) as error:
        await http.json("POST", "/v1/blobs", content=b"x", retry=True)
    assert (error.value.status, error.value.code, error.value.detail) == (
        409,
        "quota_exceeded",
        "full",
    )
    assert seen[0].headers["authorization"] == "Bearer tok"
    await http.aclose()


async def test_transient_failures_are_retried_only_when_the_request_is_safe() -> None:
    seen: list[httpx.Request] = []
    answers: list[httpx.Response | Exception] = [
        httpx.ConnectError("refused"),
        httpx.Response(503, headers={"retry-after": "0"}, json={"code": "unavailable"}),
        httpx.Response(200, json={"ok": True}),
    ]
    http = HttpTransport("http://kabar.test", transport=_transport(answers, seen))
    assert await http.json("GET", "/v1/account", retry=True) == {"ok": True}
    assert len(seen) == 3
    once: list[httpx.Request] = []
    http = HttpTransport(
        "http://kabar.test", transport=_transport([httpx.ConnectError("refused")], once)
    )
    with pytest.raises(ServerUnreachable):
        await http.json("POST", "/v1/keys/claim", json={})
    assert len(once) == 1


async def test_a_revoked_token_is_signed_out() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(401, json={"code": "unauthenticated", "detail": "revoked"})
    http = HttpTransport("http://kabar.test", "old", transport=_transport([answer], seen))
    with pytest.raises(SignedOut):
        await http.json("GET", "/v1/account")


def test_backoff_doubles_its_window_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(7))
    windows = []
    for _ in range(6):
        windows.append(min(8.0, 2.0**backoff.attempts))
        delay = backoff.next_delay()
        assert 0 <= delay <= windows[-1]
    assert windows == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    backoff.reset()
    assert backoff.next_delay() <= 1.0
