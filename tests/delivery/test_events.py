"""Event rendering: the compact JSON kabar stores and sends is exactly ``json.dumps``'s."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kabar.delivery import events as ev


@pytest.mark.parametrize(
    "value",
    [
        {"algorithm": "m.megolm.v1", "ciphertext": "AwgA…", "session_id": None},
        {"nested": {"list": [1, 2.5, True, None, 'é\u2028"\\']}, "n": -(2**62)},
        ["a", {"b": []}, {}],
        "a lone string with \n and \u0000",
        12,
        None,
    ],
)
def test_dumps_is_compact_json_with_unicode_kept(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert ev.dumps(value) == expected
    assert json.loads(ev.dumps(value)) == value


def test_an_event_frame_splices_the_stored_content_unparsed() -> None:
    frame = ev.event_frame(
        event_id="e_x",
        type=ev.MESSAGE,
        conversation_id="c_x",
        seq=3,
        sender="alice",
        sender_id="a_x",
        sender_device="d_x",
        txn_id="t1",
        ts=5,
        content_json='{"ciphertext":"é"}',
        franking_tag=None,
    )
    decoded = json.loads(frame)
    assert decoded["content"] == {"ciphertext": "é"}
    assert "franking_tag" not in decoded
    assert "feed_id" not in decoded
    assert decoded["seq"] == 3
    assert decoded["event_id"] == "e_x"
