"""Image uploads through the API: cleaned, stored by content hash, served at /media/, bounded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from conftest import ServerFactory
from support.api import Api, ApiError
from support.public import create_account

CANARY = "CANARY-upload-camera-owner"


def photo(width: int = 900, height: int = 600) -> bytes:
    image = Image.new("RGB", (width, height), "teal")
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = CANARY
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N"}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


async def test_an_uploaded_photo_is_served_clean_with_variants(api: Api, tmp_path: Path) -> None:
    user = await api.register()
    uploaded = await api.call("POST", "/v1/media/images", user, content=photo())
    image = uploaded["image"]
    assert (image["mime"], image["width"], image["height"]) == ("image/jpeg", 900, 600)
    assert image["path"].startswith("/media/")
    assert [v["width"] for v in uploaded["variants"]] == [320, 768]
    response = await api.http.get(image["path"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in response.headers["cache-control"]
    assert CANARY.encode() not in response.content
    with Image.open(io.BytesIO(response.content)) as served:
        assert served.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    variant = await api.http.get(uploaded["variants"][0]["path"])
    assert variant.headers["content-type"] == "image/webp"
    for missing in ("/media/" + "0" * 64 + ".png", "/media/../kabar.db", "/media/x.svg"):
        assert (await api.http.get(missing)).status_code == 404


async def test_what_is_not_an_image_is_refused(api: Api) -> None:
    user = await api.register()
    for body in (b"", b"<svg onload=alert(1)></svg>", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40):
        with pytest.raises(ApiError) as caught:
            await api.call("POST", "/v1/media/images", user, content=body)
        assert (caught.value.status, caught.value.code) == (400, "invalid_image")
    # Image uploads may exceed the general 2 MiB body limit (up to limits.image_max_bytes).
    with pytest.raises(ApiError) as caught:
        await api.call("POST", "/v1/media/images", user, content=b"\xff" * (3 * 1024 * 1024))
    assert caught.value.code == "invalid_image"
    with pytest.raises(ApiError) as caught:
        await api.call("POST", "/v1/media/images", content=photo())
    assert caught.value.status == 401


async def test_uploads_count_against_a_quota(make_server: ServerFactory) -> None:
    quota = {"quota_bytes_per_account": 5000}
    async with make_server(media=quota) as server, Api(server.base_url) as api:
        user = await api.register()
        await api.call("POST", "/v1/media/images", user, content=photo(200, 100))  # ~0.4 kB
        with pytest.raises(ApiError) as caught:  # ~7 kB with its variants
            await api.call("POST", "/v1/media/images", user, content=photo(1200, 800))
        assert (caught.value.status, caught.value.code) == (413, "media_quota_exceeded")


async def test_owners_set_the_avatar(api: Api) -> None:
    owner, editor = await api.register(), await api.register()
    handle = (await create_account(api, owner))["handle"]
    await api.call(
        "PUT",
        f"/v1/public/accounts/{handle}/members/{editor.username}",
        owner,
        json={"role": "editor"},
    )
    with pytest.raises(ApiError) as caught:
        await api.call("PUT", f"/v1/public/accounts/{handle}/avatar", editor, content=photo())
    assert (caught.value.status, caught.value.code) == (403, "not_an_owner")
    account = await api.call("PUT", f"/v1/public/accounts/{handle}/avatar", owner, content=photo())
    assert account["avatar_url"].startswith("/media/")
    assert (await api.http.get(account["avatar_url"])).status_code == 200
    account = await api.call("DELETE", f"/v1/public/accounts/{handle}/avatar", owner)
    assert account["avatar_url"] is None
