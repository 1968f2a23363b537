"""Franked reports: a recipient's genuine report verifies; every mutation of it is refused."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import random

import pytest
from sqlalchemy import select

from kabar.conversations.reports import ReportedEvent, verify_franked
from kabar.errors import Forbidden
from kabar.protocol.canonical import canonical_json
from kabar.protocol.franking import commit
from kabar.store.schema import server_secrets
from support.api import Api, ApiError, User
from support.server import RunningServer


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


@dataclasses.dataclass
class Sent:
    event_id: str
    sender: User
    conversation_id: str
    message: bytes
    key: bytes


async def _send(api: Api, sender: User, conversation_id: str, text: str) -> Sent:
    message = canonical_json({"type": "m.text", "body": text})
    key = os.urandom(32)
    sent = await api.send(sender, conversation_id, "ciphertext", commitment=commit(key, message))
    return Sent(sent["event_id"], sender, conversation_id, message, key)


def _body(sent: Sent, **changes: str) -> dict[str, str]:
    body = {
        "event_id": sent.event_id,
        "message": _b64(sent.message),
        "franking_key": _b64(sent.key),
    }
    return {**body, **changes}


async def test_a_recipient_reports_a_message_and_the_server_records_exactly_it(
    api: Api, server: RunningServer
) -> None:
    alice, bob = await api.register(), await api.register()
    direct = await api.direct(alice, bob)
    sent = await _send(api, alice, direct, "you will regret this")
    report = await api.call("POST", "/v1/reports/messages", bob, json=_body(sent))
    assert report["duplicate"] is False
    assert report["event_id"] == sent.event_id
    assert (report["sender_account"], report["sender_device"]) == (
        alice.account_id,
        alice.device_id,
    )
    assert json.loads(report["message"]) == {"type": "m.text", "body": "you will regret this"}
    again = await api.call("POST", "/v1/reports/messages", bob, json=_body(sent))
    assert again["report_id"] == report["report_id"]
    assert again["duplicate"] is True
    from kabar.store.reports import reports_of_event

    async with server.services.database.read() as conn:
        rows = await reports_of_event(conn, server.services.writer.codec.decode(sent.event_id))
    assert [(r.reporter_account, r.message) for r in rows] == [
        (bob.account_id, sent.message.decode())
    ]


async def test_unverifiable_reports_get_one_clear_problem(api: Api) -> None:
    alice, bob, carol = [await api.register() for _ in range(3)]
    direct = await api.direct(alice, bob)
    sent = await _send(api, alice, direct, "hello")
    cases = [
        (bob, _body(sent, franking_key=_b64(os.urandom(32))), 403, "report_unverifiable"),
        (bob, _body(sent, message=_b64(b'{"body":"forged"}')), 403, "report_unverifiable"),
        (carol, _body(sent), 403, "report_unverifiable"),
        (bob, _body(sent, event_id="e_" + "a" * 26), 403, "report_unverifiable"),
        (bob, _body(sent, franking_key="not base64!"), 400, "invalid_report"),
        (bob, _body(sent, franking_key=_b64(b"short")), 400, "invalid_report"),
    ]
    for reporter, body, status, code in cases:
        with pytest.raises(ApiError) as error:
            await api.call("POST", "/v1/reports/messages", reporter, json=body)
        assert (error.value.status, error.value.code) == (status, code), body


async def test_membership_periods_decide_who_can_report(api: Api) -> None:
    owner, early, late = [await api.register() for _ in range(3)]
    group = await api.group(owner, early, title="club")
    before = await _send(api, owner, group, "said before late joined")
    await api.call(
        "POST", f"/v1/conversations/{group}/members", owner, json={"usernames": [late.username]}
    )
    after = await _send(api, owner, group, "said after")
    await api.call("DELETE", f"/v1/conversations/{group}/members/{early.username}", owner)
    # Removed later, early still received `before` and `after`: both stay reportable.
    await api.call("POST", "/v1/reports/messages", early, json=_body(before))
    await api.call("POST", "/v1/reports/messages", early, json=_body(after))
    await api.call("POST", "/v1/reports/messages", late, json=_body(after))
    with pytest.raises(ApiError) as error:
        await api.call("POST", "/v1/reports/messages", late, json=_body(before))
    assert error.value.code == "report_unverifiable"
    after_removal = await _send(api, owner, group, "said after early left")
    with pytest.raises(ApiError):
        await api.call("POST", "/v1/reports/messages", early, json=_body(after_removal))


def _flip_bit(data: bytes, rng: random.Random) -> bytes:
    index = rng.randrange(len(data) * 8)
    flipped = bytearray(data)
    flipped[index // 8] ^= 1 << (index % 8)
    return bytes(flipped)


async def test_a_thousand_mutated_reports_are_all_rejected(api: Api, server: RunningServer) -> None:
    rng = random.Random(1729)
    alice, bob, carol, dave = [await api.register() for _ in range(4)]
    direct = await api.direct(alice, bob)
    group = await api.group(alice, carol, title="other conversation")
    messages = [await _send(api, alice, direct, f"direct {i}") for i in range(5)]
    messages += [await _send(api, bob, direct, f"reply {i}") for i in range(5)]
    others = [await _send(api, carol, group, f"group {i}") for i in range(5)]
    await api.call(
        "POST", f"/v1/conversations/{group}/members", alice, json={"usernames": [dave.username]}
    )
    reports = server.services.reports
    async with server.services.database.read() as conn:
        rows = await conn.execute(select(server_secrets).where(server_secrets.c.name == "franking"))
        secret = bytes(rows.one().value)
    recipient = {alice.account_id: bob.account_id, bob.account_id: alice.account_id}
    genuine: dict[str, ReportedEvent] = {}
    for sent in messages:
        reporter = recipient[sent.sender.account_id]
        genuine[sent.event_id] = await reports.verify(
            reporter, sent.event_id, sent.message, sent.key
        )
    group_events = [
        await reports.verify(alice.account_id, s.event_id, s.message, s.key) for s in others
    ]

    async def rejected(reporter: str, event_id: str, message: bytes, key: bytes) -> bool:
        try:
            await reports.verify(reporter, event_id, message, key)
        except Forbidden as error:
            return error.code.value == "report_unverifiable"
        return False

    outcomes: list[bool] = []
    for i in range(1000):
        sent = messages[i % len(messages)]
        reporter = recipient[sent.sender.account_id]
        kind = i % 8
        if kind == 0:  # a flipped bit anywhere in the revealed text
            outcomes.append(
                await rejected(reporter, sent.event_id, _flip_bit(sent.message, rng), sent.key)
            )
        elif kind == 1:  # a flipped bit in the franking key, or another message's key
            key = _flip_bit(sent.key, rng) if i % 16 == 1 else rng.choice(messages[:-1]).key
            if key == sent.key:
                key = os.urandom(32)
            outcomes.append(await rejected(reporter, sent.event_id, sent.message, key))
        elif kind == 2:  # the right text and key, claimed for another event (sender/conversation)
            other = rng.choice([m for m in messages + others if m.event_id != sent.event_id])
            outcomes.append(await rejected(reporter, other.event_id, sent.message, sent.key))
        elif kind == 3:  # a reporter who never was in the conversation
            outcomes.append(await rejected(carol.account_id, sent.event_id, sent.message, sent.key))
        elif kind == 4:  # a member who joined only after the message was sent
            old = others[i % len(others)]
            outcomes.append(await rejected(dave.account_id, old.event_id, old.message, old.key))
        else:  # stored fields swapped: tag replayed from another message, context moved
            event = genuine[sent.event_id]
            field = ["tag", "conversation_id", "sender_account", "sender_device", "pos"][i % 5]
            candidates = list(genuine.values()) + group_events
            other = rng.choice(
                [e for e in candidates if getattr(e, field) != getattr(event, field)]
            )
            forged = dataclasses.replace(event, **{field: getattr(other, field)})
            if field == "pos":
                forged = dataclasses.replace(forged, created_at=other.created_at)
            outcomes.append(not verify_franked(secret, forged, sent.message, sent.key))
    assert len(outcomes) == 1000
    assert all(outcomes)
    for sent in messages:  # the genuine reports still verify after all that
        event = genuine[sent.event_id]
        assert verify_franked(secret, event, sent.message, sent.key)
