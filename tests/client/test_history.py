"""The history part of the local store: batches, undecrypted events, short ids, upgrades."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kabar.client.history import HistoryEntry
from kabar.client.store import DeviceStore
from kabar.client.vault import KdfParams
from kabar.ids import new_conversation_id, new_device_id, new_event_id

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


def create(path: Path) -> DeviceStore:
    return DeviceStore.create(path, "pass", username="alice", device_id=new_device_id(), kdf=CHEAP)


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    conversation = new_conversation_id()
    with create(tmp_path / "s.db") as store:
        kept = HistoryEntry(conversation, new_event_id(), "bob", 1, {"body": "kept"})
        with store.batch():
            store.add_message(kept)
            store.set_setting("sync_token", "s1")
        lost = HistoryEntry(conversation, new_event_id(), "bob", 2, {"body": "lost"})

        def crash_mid_page() -> None:
            with store.batch():
                store.add_message(lost)
                store.set_setting("sync_token", "s2")
                raise RuntimeError("crash in the middle of a page")

        with pytest.raises(RuntimeError):
            crash_mid_page()
        assert [m.content["body"] for m in store.history(conversation)] == ["kept"]
        assert store.get_setting("sync_token") == "s1"
        assert store.search("lost") == []


def test_undecrypted_events_wait_for_their_session(tmp_path: Path) -> None:
    conversation = new_conversation_id()
    first, second, other = new_event_id(), new_event_id(), new_event_id()
    with create(tmp_path / "s.db") as store:
        log = store.messages
        log.add_undecrypted(first, conversation, "curve|s1", 10, {"event_id": first, "n": 1})
        log.add_undecrypted(second, conversation, "curve|s1", 5, {"event_id": second, "n": 2})
        log.add_undecrypted(other, new_conversation_id(), "curve|s2", 7, {"event_id": other})
        assert [r["n"] for r in log.undecrypted(session_key="curve|s1")] == [2, 1]
        assert [r["event_id"] for r in log.undecrypted(conversation_id=conversation)] == [
            second,
            first,
        ]
        assert log.has(first)
        log.remove_undecrypted(first)
        assert not log.has(first)
        assert log.event_ids(second[:10]) == [second]


def test_a_version_1_store_is_upgraded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    create(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE undecrypted")
    db.execute("UPDATE meta SET value = '1' WHERE name = 'schema'")
    db.commit()
    db.close()
    with DeviceStore.open(path, "pass") as store:
        store.messages.add_undecrypted(new_event_id(), "c", "k", 1, {})
        assert len(store.messages.undecrypted()) == 1
