"""Hash lists over HTTP, and every public upload checked against them (never E2E blobs)."""

from __future__ import annotations

from typing import Any

import pytest

from kabar.moderation.hash_matching import UploadMatch
from kabar.moderation.hashing import pdq_hash, sha256_hex
from kabar.store import hashes as hash_store
from support.api import Api, ApiError, User
from support.images import edited_copy, encode, photo
from support.public import create_account
from support.server import RunningServer
from support.transparency import make_admin

LISTED = photo(1)
EXACT_FILE = encode(photo(2))  # listed by SHA-256 only
UNRELATED = encode(photo(3))
IMPORT = "/v1/admin/hash-lists/import"


class RecordingSink:
    def __init__(self) -> None:
        self.matches: list[UploadMatch] = []

    async def on_match(self, match: UploadMatch) -> None:
        self.matches.append(match)


def _csv(*rows: str) -> bytes:
    return ("type,value,list,action\n" + "".join(r + "\n" for r in rows)).encode()


async def _import(api: Api, admin: User, data: bytes) -> Any:
    return await api.call("POST", IMPORT, admin, content=data, headers={"Content-Type": "text/csv"})


async def _upload(api: Api, user: User, data: bytes) -> str:
    body = await api.call("POST", "/v1/media/images", user, content=data)
    media_id: str = body["media_id"]
    return media_id


@pytest.fixture
async def listed(server: RunningServer, api: Api) -> tuple[User, RecordingSink]:
    admin = await make_admin(api, server.services)
    pdq, quality = pdq_hash(encode(LISTED))
    assert quality >= 50
    report = await _import(
        api,
        admin,
        _csv(
            f"pdq,{pdq},provider-a,open_case",
            f"sha256,{sha256_hex(EXACT_FILE).upper()},known-spam,auto_remove",
            "md5,abc,provider-a,open_case",
        ),
    )
    assert (report["imported"], report["duplicates"], report["refused"]) == (2, 0, 1)
    assert report["errors"] == [{"line": 4, "message": "type 'md5' is not pdq or sha256"}]
    sink = RecordingSink()
    server.services.hash_matching.sink = sink
    return admin, sink


async def test_an_edited_copy_of_a_listed_image_matches(
    server: RunningServer, api: Api, listed: tuple[User, RecordingSink]
) -> None:
    _, sink = listed
    user = await api.register()
    media_id = await _upload(api, user, edited_copy(LISTED))
    [match] = sink.matches
    assert (match.media_id, match.account_id, match.handle) == (media_id, user.account_id, None)
    assert (match.list_name, match.action, match.hash_type) == ("provider-a", "open_case", "pdq")
    assert 0 < match.distance <= 31
    async with server.services.database.read() as conn:
        [row] = await hash_store.matches_of_media(conn, media_id)
    assert (row.id, row.list_id) == (match.match_id, match.list_id)


async def test_the_exact_listed_file_matches_by_sha256(
    api: Api, listed: tuple[User, RecordingSink]
) -> None:
    _, sink = listed
    owner = await api.register()
    account = await create_account(api, owner)
    handle = account["handle"]
    await api.call("PUT", f"/v1/public/accounts/{handle}/avatar", owner, content=EXACT_FILE)
    [match] = sink.matches
    assert (match.list_name, match.action, match.hash_type) == (
        "known-spam",
        "auto_remove",
        "sha256",
    )
    assert match.distance == 0
    assert match.handle == handle


async def test_unrelated_images_and_e2e_blobs_are_left_alone(
    server: RunningServer, api: Api, listed: tuple[User, RecordingSink]
) -> None:
    _, sink = listed
    user = await api.register()
    media_id = await _upload(api, user, UNRELATED)
    # An end-to-end encrypted blob is never hashed, even if its bytes are a listed file.
    await api.call(
        "POST",
        "/v1/blobs",
        user,
        content=EXACT_FILE,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert sink.matches == []
    async with server.services.database.read() as conn:
        assert await hash_store.matches_of_media(conn, media_id) == []


async def test_reimporting_counts_duplicates_and_lists_show_sizes(
    api: Api, listed: tuple[User, RecordingSink]
) -> None:
    admin, _ = listed
    pdq, _ = pdq_hash(encode(LISTED))
    other = "0" * 63 + "1"
    report = await _import(
        api, admin, _csv(f"pdq,{pdq},provider-a,open_case", f"pdq,{other},provider-a,open_case")
    )
    assert (report["imported"], report["duplicates"], report["refused"]) == (1, 1, 0)
    body = await api.call("GET", "/v1/admin/hash-lists", admin)
    sizes = {(i["name"], i["action"], i["entries"]) for i in body["lists"]}
    assert sizes == {("provider-a", "open_case", 2), ("known-spam", "auto_remove", 1)}


async def test_only_admins_import_and_bad_files_are_refused(
    server: RunningServer, api: Api
) -> None:
    user = await api.register()
    with pytest.raises(ApiError) as caught:
        await _import(api, user, _csv(f"sha256,{'a' * 64},x,open_case"))
    assert (caught.value.status, caught.value.code) == (403, "insufficient_role")
    with pytest.raises(ApiError) as caught:
        await api.call("GET", "/v1/admin/hash-lists", user)
    assert caught.value.status == 403
    admin = await make_admin(api, server.services)
    for body in (b"kind,hash\npdq,abc\n", b"", b"type,value,list,action\n"):
        with pytest.raises(ApiError) as caught:
            await _import(api, admin, body)
        assert (caught.value.status, caught.value.code) == (400, "invalid_hash_list")
