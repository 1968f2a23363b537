"""Signed authorship: a genuine device signature verifies; any change to any field breaks it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from vodozemac import Account

from kabar.errors import InvalidRequest
from kabar.public.canonical import (
    ArticleRevision,
    revision_payload,
    rfc3339_utc,
    verify_revision,
)

REVISION = ArticleRevision(
    handle="daily_news",
    slug="budget-2025",
    title="Budget 2025: what changes",
    markdown="# Budget\n\nThe *details* — in full.\r\n",
    revision=3,
    published_at=datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
    device_id="d_abcdefghijklmnopqrstuvwxyz",
    account="alice",
)


def signed(revision: ArticleRevision = REVISION) -> tuple[Account, str]:
    device = Account()
    return device, device.sign(revision_payload(revision)).to_base64()


def test_payload_is_the_documented_canonical_json() -> None:
    assert (
        revision_payload(REVISION)
        == (
            '{"account":"alice","device_id":"d_abcdefghijklmnopqrstuvwxyz","handle":"daily_news",'
            '"kabar":"article-revision/1",'
            '"markdown":"# Budget\\n\\nThe *details* — in full.\\r\\n",'
            '"published_at":"2025-03-01T09:30:15Z","revision":3,"slug":"budget-2025",'
            '"title":"Budget 2025: what changes"}'
        ).encode()
    )


def test_genuine_signature_verifies() -> None:
    device, signature = signed()
    assert verify_revision(
        REVISION, ed25519_key=device.ed25519_key.to_base64(), signature=signature
    )


@pytest.mark.parametrize(
    "change",
    [
        {"handle": "daily_newz"},
        {"slug": "budget-2026"},
        {"title": "Budget 2025: what changes!"},
        {"markdown": "# Budget\n\nThe *details* — in full.\n"},
        {"revision": 4},
        {"published_at": datetime(2025, 3, 1, 9, 30, 16, tzinfo=UTC)},
        {"device_id": "d_bbcdefghijklmnopqrstuvwxyz"},
        {"account": "mallory"},
    ],
)
def test_any_tampered_field_fails(change: dict[str, object]) -> None:
    device, signature = signed()
    tampered = dataclasses.replace(REVISION, **change)  # type: ignore[arg-type]
    assert not verify_revision(
        tampered, ed25519_key=device.ed25519_key.to_base64(), signature=signature
    )


def test_another_devices_key_fails() -> None:
    _, signature = signed()
    assert not verify_revision(
        REVISION, ed25519_key=Account().ed25519_key.to_base64(), signature=signature
    )


@pytest.mark.parametrize("signature", ["", "not base64!", "AAAA"])
def test_garbage_signature_fails(signature: str) -> None:
    device, _ = signed()
    assert not verify_revision(
        REVISION, ed25519_key=device.ed25519_key.to_base64(), signature=signature
    )


def test_garbage_key_fails() -> None:
    _, signature = signed()
    assert not verify_revision(REVISION, ed25519_key="nope", signature=signature)


def test_same_instant_in_another_zone_or_with_fractions_signs_the_same() -> None:
    device, signature = signed()
    plus_two = timezone(timedelta(hours=2))
    moved = dataclasses.replace(
        REVISION, published_at=datetime(2025, 3, 1, 11, 30, 15, tzinfo=plus_two)
    )
    assert verify_revision(moved, ed25519_key=device.ed25519_key.to_base64(), signature=signature)


def test_rfc3339_utc() -> None:
    assert rfc3339_utc(datetime(2025, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)) == "2025-01-02T03:04:05Z"


def test_naive_published_at_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        revision_payload(dataclasses.replace(REVISION, published_at=datetime(2025, 1, 1)))


@pytest.mark.parametrize("number", [0, -1, True])
def test_revision_numbers_start_at_one(number: int) -> None:
    with pytest.raises(InvalidRequest):
        revision_payload(dataclasses.replace(REVISION, revision=number))


def test_text_that_is_not_unicode_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        revision_payload(dataclasses.replace(REVISION, markdown="x\udc00"))
