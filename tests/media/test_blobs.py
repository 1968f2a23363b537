"""Opaque blobs: upload, download by id, delete by the uploader, size limits and quotas."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from conftest import ServerFactory
from support.api import Api, ApiError


async def _upload(api: Api, user, data: bytes) -> dict:  # noqa: ANN001
    result: dict = await api.call(
        "POST",
        "/v1/blobs",
        user,
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    return result


async def test_a_blob_comes_back_byte_for_byte_to_anyone_signed_in_who_knows_its_id(
    api: Api,
) -> None:
    alice, bob = await api.register(), await api.register()
    data = os.urandom(300_000)
    blob = await _upload(api, alice, data)
    assert blob["size"] == len(data)
    assert blob["blob_id"].startswith("b_")
    response = await api.http.get(f"/v1/blobs/{blob['blob_id']}", headers=bob.headers)
    assert response.status_code == 200
    assert response.content == data
    anonymous = await api.http.get(f"/v1/blobs/{blob['blob_id']}")
    assert anonymous.status_code == 401


async def test_only_the_uploader_deletes_and_others_see_not_found(api: Api) -> None:
    alice, bob = await api.register(), await api.register()
    blob = await _upload(api, alice, b"ciphertext")
    with pytest.raises(ApiError) as error:
        await api.call("DELETE", f"/v1/blobs/{blob['blob_id']}", bob)
    assert (error.value.status, error.value.code) == (404, "blob_not_found")
    await api.call("DELETE", f"/v1/blobs/{blob['blob_id']}", alice)
    with pytest.raises(ApiError) as gone:
        await api.call("GET", f"/v1/blobs/{blob['blob_id']}", alice)
    assert gone.value.code == "blob_not_found"
    assert (await api.call("GET", "/v1/blobs/usage", alice))["used_bytes"] == 0


@pytest.mark.parametrize("blob_id", ["b_nope", "../../etc/passwd", "c_" + "a" * 26])
async def test_malformed_or_unknown_ids_are_not_found(api: Api, blob_id: str) -> None:
    user = await api.register()
    response = await api.http.get(f"/v1/blobs/{blob_id}", headers=user.headers)
    assert response.status_code == 404


async def test_a_blob_over_the_size_limit_is_refused_while_streaming(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    async with make_server(media={"blob_max_bytes": 100_000}) as server:
        api = Api(server.base_url)
        try:
            user = await api.register()
            with pytest.raises(ApiError) as declared:
                await _upload(api, user, b"x" * 100_001)
            assert (declared.value.status, declared.value.code) == (413, "payload_too_large")

            async def chunks():  # noqa: ANN202 - no content-length: the limit applies mid-stream
                for _ in range(20):
                    yield b"y" * 10_000

            streamed = await api.http.post("/v1/blobs", headers=user.headers, content=chunks())
            assert streamed.status_code == 413
            assert await _upload(api, user, b"z" * 100_000)
            leftovers = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
            assert len(leftovers) == 1  # only the accepted blob: no partial or temporary files
        finally:
            await api.close()


async def test_the_quota_counts_every_blob_of_the_account_even_in_parallel(
    make_server: ServerFactory,
) -> None:
    async with make_server(media={"quota_bytes_per_account": 250_000}) as server:
        api = Api(server.base_url)
        try:
            user, other = await api.register(), await api.register()
            results = await asyncio.gather(
                *(_upload(api, user, os.urandom(100_000)) for _ in range(4)),
                return_exceptions=True,
            )
            refused = [r for r in results if isinstance(r, ApiError)]
            assert len(refused) == 2
            assert {(r.status, r.code) for r in refused} == {(409, "quota_exceeded")}
            usage = await api.call("GET", "/v1/blobs/usage", user)
            assert usage["used_bytes"] == 200_000
            assert usage["quota_bytes"] == 250_000
            assert await _upload(api, other, os.urandom(200_000))  # quotas are per account
        finally:
            await api.close()


async def test_blob_files_are_stored_atomically_under_random_ids(api: Api, tmp_path: Path) -> None:
    user = await api.register()
    first = await _upload(api, user, b"same bytes")
    second = await _upload(api, user, b"same bytes")
    assert first["blob_id"] != second["blob_id"]  # no content addressing, no deduplication
    files = sorted(p.name for p in (tmp_path / "media" / "blobs").rglob("*") if p.is_file())
    assert files == sorted([first["blob_id"], second["blob_id"]])
