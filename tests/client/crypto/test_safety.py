from __future__ import annotations

from kabar.client.crypto.device import DeviceIdentity, DeviceKeys
from kabar.client.crypto.directory import DeviceDirectory
from kabar.client.crypto.safety import diff_devices, safety_number, same_safety_number
from kabar.client.crypto.testing import FakeServer, TestDevice


def ed_keys(devices: list[DeviceIdentity]) -> list[str]:
    return [d.ed25519 for d in devices]


def test_safety_number_is_stable_across_runs() -> None:
    # A fixed vector: changing the derivation would break every comparison users made.
    number = safety_number("alice", ["A" * 43, "B" * 43], "bob", ["C" * 43])
    assert number == "23374 93997 35359 56451 56822 16177 51074 59618 88396 50511 79569 04377"


def test_safety_number_is_60_digits_in_12_groups() -> None:
    number = safety_number("alice", ["k1"], "bob", ["k2"])
    groups = number.split(" ")
    assert len(groups) == 12
    assert all(len(g) == 5 and g.isdigit() for g in groups)


def test_safety_number_ignores_party_and_device_order() -> None:
    alice = [DeviceIdentity.create("alice", f"d_{i}") for i in range(3)]
    bob = [DeviceIdentity.create("bob", f"d_{i}") for i in range(2)]
    forward = safety_number("alice", ed_keys(alice), "bob", ed_keys(bob))
    assert safety_number("bob", ed_keys(bob), "alice", ed_keys(alice)) == forward
    assert safety_number("alice", ed_keys(alice)[::-1], "bob", ed_keys(bob)[::-1]) == forward


def test_safety_number_changes_when_a_device_is_added_or_a_key_changes() -> None:
    alice = [DeviceIdentity.create("alice", "d_1")]
    bob = [DeviceIdentity.create("bob", "d_1")]
    before = safety_number("alice", ed_keys(alice), "bob", ed_keys(bob))
    added = ed_keys(bob) + [DeviceIdentity.create("bob", "d_2").ed25519]
    assert safety_number("alice", ed_keys(alice), "bob", added) != before
    replaced = [DeviceIdentity.create("bob", "d_1").ed25519]
    assert safety_number("alice", ed_keys(alice), "bob", replaced) != before


def test_safety_number_binds_the_usernames() -> None:
    keys_a, keys_b = ["ka"], ["kb"]
    assert safety_number("alice", keys_a, "bob", keys_b) != safety_number(
        "alicia", keys_a, "bob", keys_b
    )


def test_read_back_comparison_ignores_spacing() -> None:
    number = safety_number("alice", ["k1"], "bob", ["k2"])
    assert same_safety_number(number, number.replace(" ", ""))
    assert not same_safety_number(number, "0" * 60)


def keys(username: str, device_id: str) -> DeviceKeys:
    return DeviceIdentity.create(username, device_id).keys()


def test_device_diff_reports_added_changed_and_removed() -> None:
    one, two, three = keys("bob", "d_1"), keys("bob", "d_2"), keys("bob", "d_3")
    two_again = keys("bob", "d_2")
    changes = diff_devices({"d_1": one, "d_2": two}, {"d_1": one, "d_2": two_again, "d_3": three})
    assert changes.added == (three,)
    assert changes.changed == (two_again,)
    assert changes.removed == ()
    assert diff_devices({"d_1": one}, {}).removed == (one,)
    assert not diff_devices({"d_1": one}, {"d_1": one}).any


def test_directory_warns_about_a_new_device_and_drops_its_verification(
    server: FakeServer,
) -> None:
    alice, bob1 = TestDevice(server, "alice"), TestDevice(server, "bob")
    first = alice.refresh(["bob"])["bob"]
    assert first.added == (bob1.keys,)
    alice.directory.mark_verified("bob")
    assert alice.directory.is_verified("bob", bob1.device_id)
    assert not alice.refresh(["bob"])["bob"].any

    bob2 = TestDevice(server, "bob")
    changes = alice.refresh(["bob"])["bob"]
    assert changes.added == (bob2.keys,)
    assert alice.directory.is_verified("bob", bob1.device_id)
    assert not alice.directory.is_verified("bob", bob2.device_id)


def test_directory_replaces_changed_keys_unverified() -> None:
    directory = DeviceDirectory()
    original = keys("bob", "d_1")
    directory.update("bob", [original])
    directory.mark_verified("bob")
    impostor = keys("bob", "d_1")
    changes = directory.update("bob", [impostor])
    assert changes.changed == (impostor,)
    assert not directory.is_verified("bob", "d_1")
    assert directory.by_curve25519(original.curve25519) is None
    assert directory.by_curve25519(impostor.curve25519) == impostor
