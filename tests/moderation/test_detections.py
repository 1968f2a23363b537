"""Hash-list matches through moderation: a case for a moderator, or removal at once."""

from __future__ import annotations

import json
from typing import Any

from kabar.moderation.hashing import pdq_hash, sha256_hex
from kabar.moderation.transparency.entries import LogEntry
from kabar.store import transparency as log_store
from support.api import Api, User
from support.images import edited_copy, encode, photo
from support.moderation import case_of, moderator
from support.server import RunningServer
from support.transparency import make_admin

LISTED = photo(1)
EXACT_FILE = encode(photo(2))


async def _listed(api: Api, server: RunningServer) -> None:
    admin = await make_admin(api, server.services)
    pdq, _ = pdq_hash(encode(LISTED))
    rows = f"pdq,{pdq},provider-a,open_case\nsha256,{sha256_hex(EXACT_FILE)},known,auto_remove\n"
    await api.call(
        "POST",
        "/v1/admin/hash-lists/import",
        admin,
        content=("type,value,list,action\n" + rows).encode(),
        headers={"Content-Type": "text/csv"},
    )


async def _upload(api: Api, user: User, data: bytes) -> dict[str, Any]:
    result: dict[str, Any] = await api.call("POST", "/v1/media/images", user, content=data)
    return result


def _path(upload: dict[str, Any]) -> str:
    return "/media/" + str(upload["image"]["url"]).rsplit("/media/", 1)[1]


async def test_an_open_case_match_waits_for_a_moderator(api: Api, server: RunningServer) -> None:
    await _listed(api, server)
    user = await api.register()
    mod = await moderator(api, server)
    upload = await _upload(api, user, edited_copy(LISTED))
    case = await case_of(api, mod, "media", upload["media_id"])
    assert case["status"] == "open"
    assert case["source"] == "hash_match"
    assert case["owner"] == user.username
    assert case["reports"][0]["reporter"] is None
    assert case["snapshot"]["list"] == "provider-a"
    assert (await api.http.get(_path(upload))).status_code == 200
    assert (await api.call("GET", "/v1/notices", user))["notices"] == []


async def test_an_auto_remove_match_is_removed_logged_and_appealable(
    api: Api, server: RunningServer
) -> None:
    await _listed(api, server)
    user = await api.register()
    mod = await moderator(api, server)
    upload = await _upload(api, user, EXACT_FILE)
    assert (await api.http.get(_path(upload))).status_code == 404
    for variant in upload["variants"]:
        assert (await api.http.get(_path({"image": variant}))).status_code == 404
    case = await case_of(api, mod, "media", upload["media_id"])
    assert case["status"] == "closed"
    [action] = case["actions"]
    assert action["automated"] is True
    assert action["moderator"] is None
    assert action["source"] == "hash_match"
    [notice] = (await api.call("GET", "/v1/notices", user))["notices"]
    assert notice["action"] == "remove_content"
    assert notice["target"]["label"] == "an uploaded image"
    async with server.services.database.read() as conn:
        rows = await log_store.leaves(conn, 0, 10)
    [entry] = [LogEntry.from_json(json.loads(r.entry)) for r in rows]
    assert (entry.source, entry.automated, entry.action) == ("hash_match", True, "remove_content")
    assert entry.target.type == "account"
    assert entry.target.ref.startswith("sha256:")
    # Any moderator may decide the appeal: nobody took the automated action.
    appeal = await api.call(
        "POST", f"/v1/notices/{notice['id']}/appeal", user, json={"statement": "my own photo"}
    )
    await api.call(
        "POST",
        f"/v1/moderation/appeals/{appeal['id']}/decision",
        mod,
        json={"grant": True, "rationale": "A false match."},
    )
    assert (await api.http.get(_path(upload))).status_code == 200
