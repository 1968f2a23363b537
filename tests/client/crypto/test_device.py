from __future__ import annotations

import os

import pytest

from kabar.client.crypto.device import ONE_TIME_KEY_TARGET, DeviceIdentity, DeviceKeys
from kabar.client.crypto.errors import InvalidSignature, MalformedPayload, StoreError
from kabar.protocol.signing import identity_payload, one_time_key_payload, verify_ed25519


def test_identity_upload_is_signed_over_the_shared_identity_payload() -> None:
    device = DeviceIdentity.create("alice", "d_1")
    upload = device.identity_upload()
    assert set(upload) == {"curve25519", "ed25519", "signature"}
    payload = identity_payload("alice", "d_1", upload["curve25519"], upload["ed25519"])
    assert verify_ed25519(upload["ed25519"], payload, upload["signature"])
    assert DeviceKeys.from_upload("alice", "d_1", upload) == device.keys()


def test_identity_claimed_for_another_account_or_device_is_rejected() -> None:
    upload = DeviceIdentity.create("alice", "d_1").identity_upload()
    with pytest.raises(InvalidSignature):
        DeviceKeys.from_upload("mallory", "d_1", upload)
    with pytest.raises(InvalidSignature):
        DeviceKeys.from_upload("alice", "d_2", upload)


def test_identity_with_swapped_curve_key_is_rejected() -> None:
    upload = DeviceIdentity.create("alice", "d_1").identity_upload()
    upload["curve25519"] = DeviceIdentity.create("eve", "d_9").curve25519
    with pytest.raises(InvalidSignature):
        DeviceKeys.from_upload("alice", "d_1", upload)


def test_malformed_identity_upload_is_rejected() -> None:
    with pytest.raises(MalformedPayload):
        DeviceKeys.from_upload("alice", "d_1", {"curve25519": "x", "ed25519": "y"})


def test_one_time_keys_are_signed_and_verifiable_by_others() -> None:
    device = DeviceIdentity.create("bob", "d_b")
    keys = device.generate_one_time_keys(5)
    assert len(keys) == 5
    for key in keys:
        payload = one_time_key_payload("d_b", key["key_id"], key["key"], fallback=False)
        assert verify_ed25519(device.ed25519, payload, key["signature"])
        assert device.keys().verify_one_time_key(key) == key["key"]


def test_fallback_key_is_signed_with_the_fallback_flag() -> None:
    device = DeviceIdentity.create("bob", "d_b")
    fallback = device.generate_fallback_key()
    payload = one_time_key_payload("d_b", fallback["key_id"], fallback["key"], fallback=True)
    assert verify_ed25519(device.ed25519, payload, fallback["signature"])
    assert device.keys().verify_one_time_key({**fallback, "fallback": True}) == fallback["key"]
    with pytest.raises(InvalidSignature):
        device.keys().verify_one_time_key({**fallback, "fallback": False})


def test_one_time_key_with_forged_signature_is_rejected() -> None:
    bob, eve = DeviceIdentity.create("bob", "d_b"), DeviceIdentity.create("eve", "d_e")
    key = eve.generate_one_time_keys(1)[0]
    with pytest.raises(InvalidSignature):
        bob.keys().verify_one_time_key(key)


def test_generation_never_exceeds_vodozemac_capacity_per_upload() -> None:
    device = DeviceIdentity.create("bob", "d_b")
    assert len(device.generate_one_time_keys(500)) == ONE_TIME_KEY_TARGET
    device.mark_published()
    assert len(device.generate_one_time_keys(7)) == 7


def test_unpublished_keys_are_offered_again_after_a_failed_upload() -> None:
    device = DeviceIdentity.create("bob", "d_b")
    first = device.generate_one_time_keys(3)
    assert device.generate_one_time_keys(0) == first
    device.mark_published()
    assert device.generate_one_time_keys(0) == []


def test_top_up_count_follows_server_remaining_count() -> None:
    device = DeviceIdentity.create("bob", "d_b")
    assert device.one_time_keys_needed(0) == 50
    assert device.one_time_keys_needed(12) == 38
    assert device.one_time_keys_needed(50) == 0
    assert device.one_time_keys_needed(80) == 0


def test_account_pickle_round_trip_and_wrong_key() -> None:
    device = DeviceIdentity.create("bob", "d_b")
    key = os.urandom(32)
    restored = DeviceIdentity.from_pickle("bob", "d_b", device.pickle(key), key)
    assert restored.keys() == device.keys()
    with pytest.raises(StoreError):
        DeviceIdentity.from_pickle("bob", "d_b", device.pickle(key), os.urandom(32))
