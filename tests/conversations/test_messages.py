"""Opaque end-to-end messages: sends, idempotency, franking tags, limits and history."""

from __future__ import annotations

import base64
import os

import pytest

from kabar.protocol.franking import FrankingContext, commit, tag_matches
from support.api import Api, ApiError, text_of


async def test_a_send_returns_its_position_seq_and_event_id(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    sent = await api.send(alice, direct, "hello")
    assert sent["seq"] == 2
    assert sent["duplicate"] is False
    assert sent["event_id"].startswith("e_")
    received = [e for e in await api.sync_all(bob) if e["type"] == "message"]
    assert [(e["event_id"], e["seq"], e["sender"], e["sender_device"]) for e in received] == [
        (sent["event_id"], 2, alice.username, alice.device_id)
    ]
    assert text_of(received[0]) == "hello"


async def test_repeating_a_txn_id_returns_the_original_and_stores_nothing(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    first = await api.send(alice, direct, "once", txn_id="txn-1")
    again = await api.send(alice, direct, "once", txn_id="txn-1")
    assert again["duplicate"] is True
    assert {k: v for k, v in again.items() if k != "duplicate"} == {
        k: v for k, v in first.items() if k != "duplicate"
    }
    messages = [e for e in await api.sync_all(bob) if e["type"] == "message"]
    assert len(messages) == 1
    other_device = await api.login(alice.username)
    fresh = await api.send(other_device, direct, "same txn, other device", txn_id="txn-1")
    assert fresh["duplicate"] is False
    assert fresh["seq"] == 3


async def test_a_txn_id_reused_for_another_conversation_is_a_conflict(api: Api) -> None:
    alice, bob, carol = [await api.register() for _ in range(3)]
    first, second = await api.direct(alice, bob), await api.direct(alice, carol)
    await api.send(alice, first, txn_id="t")
    with pytest.raises(ApiError) as error:
        await api.send(alice, second, txn_id="t")
    assert (error.value.status, error.value.code) == (409, "txn_id_reused")


async def test_the_franking_tag_binds_the_commitment_to_sender_conversation_and_position(
    api: Api,
    server,  # noqa: ANN001
) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    key = os.urandom(32)
    message = b'{"body":"you will regret this","type":"text"}'
    sent = await api.send(alice, direct, "ciphertext", commitment=commit(key, message))
    event = [e for e in await api.sync_all(bob) if e["type"] == "message"][0]
    assert event["franking_tag"] == sent["franking_tag"]
    services = server.services
    position = services.writer.codec.decode(event["event_id"])
    context = FrankingContext(
        direct, alice.account_id, alice.device_id, event["event_id"], position, event["ts"]
    )
    commitment = base64.b64decode(event["content"]["franking_commitment"])
    secret = (await _secret(services))["franking"]
    assert tag_matches(secret, commitment, context, base64.b64decode(event["franking_tag"]))
    moved = FrankingContext(
        direct, bob.account_id, alice.device_id, event["event_id"], position, event["ts"]
    )
    assert not tag_matches(secret, commitment, moved, base64.b64decode(event["franking_tag"]))


async def _secret(services) -> dict[str, bytes]:  # noqa: ANN001
    from sqlalchemy import select

    from kabar.store.schema import server_secrets

    async with services.database.read() as conn:
        return {r.name: bytes(r.value) for r in await conn.execute(select(server_secrets))}


async def test_a_malformed_commitment_is_refused(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    with pytest.raises(ApiError) as error:
        await api.call(
            "PUT",
            f"/v1/conversations/{direct}/messages/t",
            alice,
            json={"algorithm": "x", "ciphertext": "y", "franking_commitment": "c2hvcnQ"},
        )
    assert error.value.status == 400


async def test_envelopes_over_64_kib_are_refused_with_413(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    await api.call(
        "PUT",
        f"/v1/conversations/{direct}/messages/ok",
        alice,
        json={"algorithm": "x", "ciphertext": "a" * 60_000},
    )
    with pytest.raises(ApiError) as error:
        await api.call(
            "PUT",
            f"/v1/conversations/{direct}/messages/big",
            alice,
            json={"algorithm": "x", "ciphertext": "a" * 70_000},
        )
    assert (error.value.status, error.value.code) == (413, "payload_too_large")


async def test_history_pages_backwards_by_seq(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    for i in range(25):
        await api.send(alice, direct, f"m{i}")
    seqs: list[int] = []
    before = None
    while True:
        params = {"limit": 10} | ({"before": before} if before else {})
        page = await api.history(bob, direct, **params)
        seqs += [e["seq"] for e in page["events"]]
        before = page["next_before"]
        if before is None:
            break
    assert seqs == list(range(26, 0, -1))


async def test_to_device_messages_reach_only_their_device_and_go_after_acknowledgement(
    api: Api,
    server,  # noqa: ANN001
) -> None:
    alice, bob = await api.register(), await api.register()
    bob_phone = await api.login(bob.username)
    body = {
        "txn_id": "k1",
        "type": "kabar.olm.v1",
        "messages": {bob.device_id: {"ciphertext": "for laptop"}},
    }
    result = await api.call("POST", "/v1/to-device", alice, json=body)
    assert result == {"sent": 1, "unknown_devices": [], "full_devices": [], "duplicate": False}
    again = await api.call("POST", "/v1/to-device", alice, json=body)
    assert again["duplicate"] is True
    first = await api.sync(bob)
    assert [m["content"] for m in first["to_device"]] == [{"ciphertext": "for laptop"}]
    assert first["to_device"][0]["sender_device"] == alice.device_id
    assert (await api.sync(bob_phone))["to_device"] == []
    assert (await api.sync(bob, since=first["next"]))["to_device"] == []
    await server.services.to_device_janitor.flush()
    from sqlalchemy import text

    async with server.services.database.read() as conn:
        left = (await conn.execute(text("SELECT count(*) FROM to_device"))).scalar_one()
    assert left == 0


async def test_unknown_to_device_targets_are_reported(api: Api) -> None:
    alice = await api.register()
    body = {"txn_id": "k2", "type": "t", "messages": {"d_" + "b" * 26: {"x": 1}}}
    result = await api.call("POST", "/v1/to-device", alice, json=body)
    assert result == {
        "sent": 0,
        "unknown_devices": ["d_" + "b" * 26],
        "full_devices": [],
        "duplicate": False,
    }


async def test_a_full_to_device_queue_refuses_more_and_says_so(make_server) -> None:  # noqa: ANN001
    async with make_server(limits={"to_device_queue_max": 3}) as server:
        api = Api(server.base_url)
        alice, bob = await api.register(), await api.register()
        results = []
        for i in range(4):
            body = {"txn_id": f"q{i}", "type": "t", "messages": {bob.device_id: {"n": i}}}
            results.append(await api.call("POST", "/v1/to-device", alice, json=body))
        assert [r["sent"] for r in results] == [1, 1, 1, 0]
        assert results[3]["full_devices"] == [bob.device_id]
        delivered = (await api.sync(bob))["to_device"]
        assert [m["content"]["n"] for m in delivered] == [0, 1, 2]
        await api.sync(bob)  # acknowledges what the first sync returned
        await server.services.to_device_janitor.flush()
        body = {"txn_id": "q9", "type": "t", "messages": {bob.device_id: {"n": 9}}}
        assert (await api.call("POST", "/v1/to-device", alice, json=body))["sent"] == 1
        await api.close()


async def test_the_sender_or_a_group_admin_deletes_a_message_for_everyone(api: Api) -> None:
    owner, member, other = [await api.register() for _ in range(3)]
    group = await api.group(owner, member, other)
    commitment = os.urandom(32)
    mine = await api.send(member, group, "regrettable", commitment=commitment)
    theirs = await api.send(other, group, "spam")
    with pytest.raises(ApiError) as not_allowed:
        await api.call("DELETE", f"/v1/conversations/{group}/messages/{theirs['event_id']}", member)
    assert (not_allowed.value.status, not_allowed.value.code) == (403, "insufficient_role")
    await api.call("DELETE", f"/v1/conversations/{group}/messages/{mine['event_id']}", member)
    await api.call("DELETE", f"/v1/conversations/{group}/messages/{theirs['event_id']}", owner)
    events = [e for e in await api.sync_all(other) if e["conversation_id"] == group]
    tombstones = [e for e in events if e["type"] == "message.deleted"]
    assert [(t["content"]["event_id"], t["content"]["as"]) for t in tombstones] == [
        (mine["event_id"], "sender"),
        (theirs["event_id"], "admin"),
    ]
    originals = [e for e in events if e["type"] == "message"]
    assert all("ciphertext" not in e["content"] for e in originals)
    assert originals[0]["content"] == {
        "redacted": True,
        "franking_commitment": base64.b64encode(commitment).decode(),
    }
    history = await api.history(owner, group)
    assert all(
        "ciphertext" not in e["content"] for e in history["events"] if e["type"] == "message"
    )


async def test_outsiders_cannot_delete_or_probe_messages(api: Api) -> None:
    alice, bob, eve = [await api.register() for _ in range(3)]
    direct = await api.direct(alice, bob)
    sent = await api.send(alice, direct)
    for event_id in (sent["event_id"], "e_" + "a" * 26):
        with pytest.raises(ApiError) as error:
            await api.call("DELETE", f"/v1/conversations/{direct}/messages/{event_id}", eve)
        assert error.value.status == 404
    with pytest.raises(ApiError) as bobs:
        await api.call("DELETE", f"/v1/conversations/{direct}/messages/{sent['event_id']}", bob)
    assert bobs.value.status == 403
