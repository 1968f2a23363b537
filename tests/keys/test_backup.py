"""The key backup store: opaque versions and session blobs, best copy kept, stale refused."""

from __future__ import annotations

import pytest

from support.api import Api, ApiError

RECORD = {"algorithm": "kabar.backup.v1", "salt": "c2FsdA", "key_check": "Y2hlY2s"}


def _session(conversation: str, session: str, index: int, blob: str = "x") -> dict:
    return {
        "conversation_id": conversation,
        "session_id": session,
        "first_known_index": index,
        "data": {"algorithm": "kabar.backup.v1", "ciphertext": blob},
    }


async def test_no_backup_is_not_found(api: Api) -> None:
    user = await api.register()
    with pytest.raises(ApiError) as error:
        await api.call("GET", "/v1/backup/versions/current", user)
    assert (error.value.status, error.value.code) == (404, "backup_not_found")


async def test_a_version_record_comes_back_verbatim_and_only_to_its_account(api: Api) -> None:
    user, other = await api.register(), await api.register()
    created = await api.call("POST", "/v1/backup/versions", user, json={"data": RECORD})
    current = await api.call("GET", "/v1/backup/versions/current", user)
    assert current["version"] == created["version"] == 1
    assert current["data"] == RECORD
    assert current["sessions"] == 0
    with pytest.raises(ApiError):
        await api.call("GET", "/v1/backup/versions/current", other)


async def test_a_session_is_replaced_only_by_a_copy_that_decrypts_at_least_as_much(
    api: Api,
) -> None:
    user = await api.register()
    await api.call("POST", "/v1/backup/versions", user, json={"data": RECORD})
    put = "/v1/backup/versions/1/sessions"
    body = {"sessions": [_session("c_1", "s1", 5, "five"), _session("c_1", "s2", 0, "zero")]}
    assert await api.call("PUT", put, user, json=body) == {"stored": 2, "count": 2}
    worse = {"sessions": [_session("c_1", "s1", 9, "nine")]}
    assert (await api.call("PUT", put, user, json=worse))["stored"] == 0
    better = {"sessions": [_session("c_1", "s1", 2, "two")]}
    assert (await api.call("PUT", put, user, json=better))["stored"] == 1
    one = await api.call("GET", "/v1/backup/versions/1/sessions/c_1/s1", user)
    assert one["first_known_index"] == 2
    assert one["data"]["ciphertext"] == "two"
    slashed = {"sessions": [_session("c_1", "ab/c+d", 0, "base64 ids have slashes")]}
    await api.call("PUT", put, user, json=slashed)
    found = await api.call("GET", "/v1/backup/versions/1/sessions/c_1/ab%2Fc+d", user)
    assert found["session_id"] == "ab/c+d"


async def test_sessions_page_in_a_stable_order(api: Api) -> None:
    user = await api.register()
    await api.call("POST", "/v1/backup/versions", user, json={"data": RECORD})
    sessions = [_session(f"c_{i % 3}", f"s{i:03d}", 0) for i in range(25)]
    await api.call("PUT", "/v1/backup/versions/1/sessions", user, json={"sessions": sessions})
    seen: list[tuple[str, str]] = []
    params: dict = {"limit": 10}
    while True:
        page = await api.call("GET", "/v1/backup/versions/1/sessions", user, params=params)
        seen += [(s["conversation_id"], s["session_id"]) for s in page["sessions"]]
        if page["next"] is None:
            break
        params = {"limit": 10, **page["next"]}
    assert seen == sorted((s["conversation_id"], s["session_id"]) for s in sessions)
    only = await api.call(
        "GET", "/v1/backup/versions/1/sessions", user, params={"conversation_id": "c_1"}
    )
    assert {s["conversation_id"] for s in only["sessions"]} == {"c_1"}


async def test_a_new_version_replaces_the_old_and_stale_uploads_are_refused(api: Api) -> None:
    user = await api.register()
    await api.call("POST", "/v1/backup/versions", user, json={"data": RECORD})
    await api.call(
        "PUT", "/v1/backup/versions/1/sessions", user, json={"sessions": [_session("c", "s", 0)]}
    )
    second = await api.call("POST", "/v1/backup/versions", user, json={"data": {"v": 2}})
    assert second["version"] == 2
    assert (await api.call("GET", "/v1/backup/versions/current", user))["sessions"] == 0
    with pytest.raises(ApiError) as stale:
        await api.call(
            "PUT",
            "/v1/backup/versions/1/sessions",
            user,
            json={"sessions": [_session("c", "s", 0)]},
        )
    assert (stale.value.status, stale.value.code) == (409, "backup_version_stale")
    assert stale.value.body["current_version"] == 2
    with pytest.raises(ApiError) as future:
        await api.call("GET", "/v1/backup/versions/3/sessions", user)
    assert future.value.code == "backup_not_found"


async def test_oversized_blobs_are_refused(api: Api) -> None:
    user = await api.register()
    await api.call("POST", "/v1/backup/versions", user, json={"data": RECORD})
    with pytest.raises(ApiError) as error:
        await api.call(
            "PUT",
            "/v1/backup/versions/1/sessions",
            user,
            json={"sessions": [_session("c", "s", 0, "x" * 10_000)]},
        )
    assert error.value.status == 413
