"""The key directory: signed uploads, queries, atomic claims and the fallback key."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import vodozemac

from kabar.protocol.signing import identity_payload, one_time_key_payload, verify_ed25519
from support.api import Api, ApiError


async def test_identity_keys_must_be_self_signed(api: Api) -> None:
    user = await api.register()
    account = vodozemac.Account()
    curve, ed = account.curve25519_key.to_base64(), account.ed25519_key.to_base64()
    forged = vodozemac.Account().sign(identity_payload(user.username, user.device_id, curve, ed))
    with pytest.raises(ApiError) as error:
        await api.call(
            "PUT",
            "/v1/keys/identity",
            user,
            json={"curve25519": curve, "ed25519": ed, "signature": forged.to_base64()},
        )
    assert (error.value.status, error.value.code) == (400, "invalid_signature")


async def test_identity_keys_signed_for_another_device_are_refused(api: Api) -> None:
    user = await api.register()
    account = vodozemac.Account()
    curve, ed = account.curve25519_key.to_base64(), account.ed25519_key.to_base64()
    signature = account.sign(identity_payload(user.username, "d_other", curve, ed)).to_base64()
    with pytest.raises(ApiError) as error:
        await api.call(
            "PUT",
            "/v1/keys/identity",
            user,
            json={"curve25519": curve, "ed25519": ed, "signature": signature},
        )
    assert error.value.code == "invalid_signature"


async def test_identity_keys_never_change(api: Api) -> None:
    user = await api.register()
    await api.publish_keys(user)
    other = vodozemac.Account()
    curve, ed = other.curve25519_key.to_base64(), other.ed25519_key.to_base64()
    signature = other.sign(identity_payload(user.username, user.device_id, curve, ed)).to_base64()
    with pytest.raises(ApiError) as error:
        await api.call(
            "PUT",
            "/v1/keys/identity",
            user,
            json={"curve25519": curve, "ed25519": ed, "signature": signature},
        )
    assert (error.value.status, error.value.code) == (409, "identity_keys_immutable")


async def test_one_time_keys_need_identity_keys_and_valid_signatures(api: Api) -> None:
    user = await api.register()
    with pytest.raises(ApiError) as missing:
        await api.call("POST", "/v1/keys/one-time", user, json={"one_time_keys": []})
    assert missing.value.code == "identity_keys_missing"
    await api.publish_keys(user)
    assert user.olm is not None
    user.olm.generate_one_time_keys(1)
    key_id, key = next(iter(user.olm.one_time_keys.items()))
    bad = user.olm.sign(
        one_time_key_payload(user.device_id, key_id, key.to_base64(), fallback=True)
    )
    with pytest.raises(ApiError) as error:
        await api.call(
            "POST",
            "/v1/keys/one-time",
            user,
            json={
                "one_time_keys": [
                    {"key_id": key_id, "key": key.to_base64(), "signature": bad.to_base64()}
                ]
            },
        )
    assert error.value.code == "invalid_signature"


async def test_query_returns_every_device_with_verifiable_keys(api: Api) -> None:
    alice = await api.register()
    alice_phone = await api.login(alice.username)
    bob = await api.register()
    for device in (alice, alice_phone, bob):
        await api.publish_keys(device)
    result = await api.call(
        "POST", "/v1/keys/query", bob, json={"usernames": [alice.username, "nobody_here"]}
    )
    devices = result["accounts"][alice.username]
    assert {d["device_id"] for d in devices} == {alice.device_id, alice_phone.device_id}
    for device in devices:
        payload = identity_payload(
            alice.username, device["device_id"], device["curve25519"], device["ed25519"]
        )
        assert verify_ed25519(device["ed25519"], payload, device["signature"])
    assert "nobody_here" not in result["accounts"]


async def test_counts_appear_in_sync_and_fall_with_claims(api: Api) -> None:
    target, claimer = await api.register(), await api.register()
    counts = await api.publish_keys(target, one_time=5, fallback=True)
    assert counts == {"one_time_key_count": 5, "fallback_key_unused": True}
    assert (await api.sync(target))["one_time_key_count"] == 5
    claimed = await api.call(
        "POST", "/v1/keys/claim", claimer, json={"devices": [target.device_id]}
    )
    key = claimed["keys"][target.device_id]
    assert key["fallback"] is False
    payload = one_time_key_payload(target.device_id, key["key_id"], key["key"], fallback=False)
    assert target.olm is not None
    assert verify_ed25519(target.olm.ed25519_key.to_base64(), payload, key["signature"])
    assert (await api.sync(target))["one_time_key_count"] == 4


async def test_concurrent_claims_hand_out_each_one_time_key_at_most_once(api: Api) -> None:
    target = await api.register()
    await api.publish_keys(target, one_time=20, fallback=True)
    claimers = [await api.register() for _ in range(5)]

    async def claim(i: int) -> dict:
        result = await api.call(
            "POST", "/v1/keys/claim", claimers[i % 5], json={"devices": [target.device_id]}
        )
        return result["keys"][target.device_id]

    keys = await asyncio.gather(*(claim(i) for i in range(50)))
    one_time = [k["key_id"] for k in keys if not k["fallback"]]
    assert len(one_time) == 20
    assert len(set(one_time)) == 20
    fallback = [k for k in keys if k["fallback"]]
    assert len(fallback) == 30
    assert len(Counter(k["key_id"] for k in fallback)) == 1
    counts = await api.call("GET", "/v1/keys/count", target)
    assert counts == {"one_time_key_count": 0, "fallback_key_unused": False}


async def test_a_device_without_keys_is_reported_unavailable(api: Api) -> None:
    target, claimer = await api.register(), await api.register()
    result = await api.call(
        "POST", "/v1/keys/claim", claimer, json={"devices": [target.device_id, "d_unknown"]}
    )
    assert result == {"keys": {}, "unavailable": [target.device_id, "d_unknown"]}


async def test_the_one_time_key_store_is_capped(make_server) -> None:  # noqa: ANN001
    async with make_server(limits={"one_time_keys_max": 10}) as server:
        api = Api(server.base_url)
        user = await api.register()
        await api.publish_keys(user, one_time=10)
        with pytest.raises(ApiError) as error:
            await api.publish_keys(user, one_time=1)
        assert (error.value.status, error.value.code) == (409, "too_many_keys")
        await api.close()
