"""Rate limits answer 429 with Retry-After, per client address and per account."""

from __future__ import annotations

import asyncio

import pytest

from kabar.accounts.ratelimit import MemoryRateLimiter
from kabar.config import RateRule
from kabar.errors import RateLimited
from support.api import Api, ApiError, unique_name

STRICT = {
    "enabled": True,
    "register_per_address": "3/h",
    "login_per_address": "100/min",
    "login_per_account": "2/min",
    "send_per_account": "5/min",
    "claim_per_account": "2/min",
}


async def test_registration_is_limited_per_address(make_server) -> None:  # noqa: ANN001
    async with make_server(rate_limits=STRICT) as server:
        api = Api(server.base_url)
        for _ in range(3):
            await api.register()
        with pytest.raises(ApiError) as error:
            await api.register()
        assert (error.value.status, error.value.code) == (429, "rate_limited")
        assert int(error.value.headers["retry-after"]) >= 1
        assert error.value.body["retry_after"] == int(error.value.headers["retry-after"])
        await api.close()


async def test_login_is_limited_per_account_even_for_unknown_names(make_server) -> None:  # noqa: ANN001
    async with make_server(rate_limits=STRICT) as server:
        api = Api(server.base_url)
        user = await api.register()
        ghost = unique_name("ghost")
        for name in (user.username, ghost):
            for _ in range(2):
                with pytest.raises(ApiError) as wrong:
                    await api.login(name, "wrong password!")
                assert wrong.value.status == 401
            with pytest.raises(ApiError) as limited:
                await api.login(name, "wrong password!")
            assert limited.value.status == 429
        await api.close()


async def test_sends_and_key_claims_are_limited_per_account(make_server) -> None:  # noqa: ANN001
    async with make_server(rate_limits=STRICT) as server:
        api = Api(server.base_url)
        alice, bob = await api.register(), await api.register()
        direct = await api.direct(alice, bob)
        for _ in range(5):
            await api.send(alice, direct)
        with pytest.raises(ApiError) as send:
            await api.send(alice, direct)
        assert send.value.status == 429
        await api.send(bob, direct)
        for _ in range(2):
            await api.call("POST", "/v1/keys/claim", alice, json={"devices": [bob.device_id]})
        with pytest.raises(ApiError) as claim:
            await api.call("POST", "/v1/keys/claim", alice, json={"devices": [bob.device_id]})
        assert claim.value.status == 429
        await api.close()


async def test_a_bucket_refills_over_time() -> None:
    limiter = MemoryRateLimiter()
    rule = RateRule(count=2, period_s=0.2)
    await limiter.hit("x", "k", rule)
    await limiter.hit("x", "k", rule)
    with pytest.raises(RateLimited) as error:
        await limiter.hit("x", "k", rule)
    assert error.value.retry_after >= 1
    await asyncio.sleep(0.15)
    await limiter.hit("x", "k", rule)
    await limiter.hit("x", "other", rule)
