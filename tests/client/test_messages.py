"""Message content through the SDK: attachments, franking and reports, local search, forgeries."""

from __future__ import annotations

import json
import os

import pytest

from kabar.client.crypto.errors import AttachmentTampered
from kabar.client.errors import AmbiguousReference, NotFoundLocally
from kabar.client.models import Message, UnableToDecrypt
from support.clients import People, settle


async def test_an_attachment_is_encrypted_uploaded_and_verified_on_download(
    people: People,
) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    data = os.urandom(200_000)
    await alice.send_file(chat.conversation_id, data, "holiday.jpg", "image/jpeg", "look!")
    [message] = [u for u in await bob.sync() if isinstance(u, Message)]
    assert message.body == "look!"
    [attachment] = message.attachments
    assert (attachment.name, attachment.mime, attachment.size) == (
        "holiday.jpg",
        "image/jpeg",
        200_000,
    )
    assert await bob.download(attachment) == data
    stored = await bob.api.download_blob(attachment.blob_id)
    assert data not in stored  # the server holds ciphertext only
    tampered = dict(attachment.descriptor, sha256="0" * 64)
    with pytest.raises(AttachmentTampered):
        await bob.download(type(attachment).from_json(tampered))


async def test_a_received_message_is_reported_with_only_its_own_content(
    people: People,
) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "an innocent message")
    abusive = await alice.send_text(chat.conversation_id, "a threatening message")
    await bob.sync()
    report = await bob.report(abusive.event_id[:12], reason="threats")
    assert report["event_id"] == abusive.event_id
    assert json.loads(report["message"]) == {"type": "m.text", "body": "a threatening message"}
    assert (report["sender_account"], report["sender_device"]) == (
        alice.account_id,
        alice.device_id,
    )
    with pytest.raises(NotFoundLocally):
        await bob.report("e_zzzzzzzzzz")
    with pytest.raises((NotFoundLocally, AmbiguousReference)):
        bob.message("e_")


async def test_local_search_finds_decrypted_messages_only_on_this_device(
    people: People,
) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "Shall we meet at the lighthouse?")
    await alice.send_text(chat.conversation_id, "Or the harbour")
    await bob.sync()
    [hit] = bob.search("lighthouse")
    assert hit.body == "Shall we meet at the lighthouse?"
    assert [m.body for m in alice.search("harbour")] == ["Or the harbour"]  # own sends too
    assert bob.search("nowhere") == []


async def test_a_message_whose_content_does_not_open_its_commitment_is_dropped(
    people: People,
) -> None:
    alice, bob = await people.register("alice"), await people.register("bob")
    chat = await alice.open_direct(bob.username)
    await alice.send_text(chat.conversation_id, "genuine")
    encrypted = alice.engine.megolm.encrypt(chat.conversation_id, {"body": "says one thing"})
    alice.engine.save()
    forged = dict(encrypted.envelope, franking_commitment="A" * 43)
    await alice.api.send_message(chat.conversation_id, "forged-commitment", forged)
    updates = await bob.sync()
    [dropped] = [u for u in updates if isinstance(u, UnableToDecrypt)]
    assert dropped.reason.value == "franking_mismatch"
    assert [m.body for m in updates if isinstance(m, Message)] == ["genuine"]


async def test_a_message_attributed_to_the_wrong_device_is_flagged(people: People) -> None:
    alice, bob, carol = [await people.register(n) for n in ("alice", "bob", "carol")]
    group = await alice.create_group("three", [bob.username, carol.username])
    conversation = group.conversation_id
    await alice.send_text(conversation, "real")
    await settle([alice, bob, carol])
    # Alice's ciphertext, posted by carol's device (as a hostile server could relabel it).
    encrypted = alice.engine.megolm.encrypt(conversation, {"body": "who said this?"})
    alice.engine.save()
    await carol.api.send_message(conversation, "relabelled", encrypted.envelope)
    [flagged] = [u for u in await bob.sync() if isinstance(u, UnableToDecrypt)]
    assert flagged.reason.value == "sender_mismatch"
    assert flagged.sender == carol.username
