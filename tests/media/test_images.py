"""Uploaded images come out upright, metadata-free, re-encoded and resized — or are refused."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms

from kabar.errors import InvalidRequest, PayloadTooLarge
from kabar.media.images import ImageLimits, ProcessedImage, process_image

CANARY = "CANARY-7f3a-private-camera-owner"
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (52.0, 22.0, 12.5),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (4.0, 53.0, 42.0),
}


def picture(width: int = 2000, height: int = 1000, mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: orientation is visible in the pixels."""
    image = Image.new(mode, (width, height), "blue")
    image.paste(Image.new(mode, (width // 2, height), "red"), (0, 0))
    return image


def exif(orientation: int | None = None, gps: bool = True) -> Image.Exif:
    data = Image.Exif()
    data[ExifTags.Base.ImageDescription] = CANARY
    data[ExifTags.Base.Artist] = CANARY
    data[ExifTags.Base.Make] = "CanaryCam"
    if orientation is not None:
        data[ExifTags.Base.Orientation] = orientation
    if gps:
        data[ExifTags.IFD.GPSInfo] = GPS
    return data


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def xmp() -> bytes:
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b"<rdf:Description>" + CANARY.encode() + b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def outputs(result: ProcessedImage) -> list[tuple[bytes, str]]:
    return [(result.data, result.mime)] + [(v.data, v.mime) for v in result.variants]


def assert_no_metadata(data: bytes) -> None:
    assert CANARY.encode() not in data
    assert b"CanaryCam" not in data
    with Image.open(io.BytesIO(data)) as image:
        found = image.getexif()
        assert dict(found) == {}
        assert found.get_ifd(ExifTags.IFD.GPSInfo) == {}
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
            assert key not in image.info


def test_jpeg_with_gps_exif_and_xmp_comes_out_clean_in_every_output() -> None:
    upload = encode(picture(), "JPEG", exif=exif(), xmp=xmp(), comment=CANARY)
    with Image.open(io.BytesIO(upload)) as original:  # the fixture really carries GPS
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert CANARY.encode() in upload

    result = process_image(upload)

    assert len(outputs(result)) == 4
    for data, _ in outputs(result):
        assert_no_metadata(data)


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_png_and_webp_metadata_is_stripped(image_format: str) -> None:
    upload = encode(picture(800, 400), image_format, exif=exif(), xmp=xmp())
    assert CANARY.encode() in upload
    for data, _ in outputs(process_image(upload)):
        assert_no_metadata(data)


def test_png_text_chunks_are_stripped() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", CANARY)
    info.add_itxt("Comment", CANARY, zip=True)
    result = process_image(encode(picture(400, 200), "PNG", pnginfo=info))
    assert_no_metadata(result.data)


def test_exif_rotated_photo_comes_out_upright() -> None:
    # Orientation 6: the camera stored the scene rotated; viewers turn it 90° clockwise.
    upload = encode(picture(2000, 1000), "JPEG", exif=exif(orientation=6))
    result = process_image(upload)
    assert (result.width, result.height) == (1000, 2000)
    for data, _ in outputs(result):
        with Image.open(io.BytesIO(data)) as image:
            rgb = image.convert("RGB")
            assert rgb.height > rgb.width
            top = rgb.getpixel((rgb.width // 2, rgb.height // 8))
            bottom = rgb.getpixel((rgb.width // 2, rgb.height * 7 // 8))
            assert isinstance(top, tuple)
            assert isinstance(bottom, tuple)
            assert top[0] > 200 > top[2]  # red on top: the stored left half
            assert bottom[2] > 200 > bottom[0]  # blue below
            assert ExifTags.Base.Orientation not in image.getexif()


def test_result_describes_the_stored_bytes() -> None:
    result = process_image(encode(picture(1000, 500), "JPEG"))
    assert result.mime == "image/jpeg"
    assert (result.width, result.height) == (1000, 500)
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (1000, 500)


def test_variants_at_each_width_below_the_original_never_upscaled() -> None:
    result = process_image(encode(picture(1000, 500), "PNG"))
    assert [(v.width, v.height) for v in result.variants] == [(320, 160), (768, 384)]
    for variant in result.variants:
        assert variant.mime == "image/webp"
        assert variant.sha256 == hashlib.sha256(variant.data).hexdigest()
        with Image.open(io.BytesIO(variant.data)) as image:
            assert image.format == "WEBP"
            assert image.size == (variant.width, variant.height)


def test_small_images_get_no_variants() -> None:
    assert process_image(encode(picture(300, 200), "PNG")).variants == ()


def test_jpeg_variants_when_configured() -> None:
    limits = ImageLimits(variant_widths=(100,), variant_format="jpeg")
    result = process_image(encode(picture(400, 200, "RGBA"), "PNG"), limits)
    assert [v.mime for v in result.variants] == ["image/jpeg"]


@pytest.mark.parametrize(
    ("image_format", "mime"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/png")],
)
def test_each_accepted_format_is_stored_as(image_format: str, mime: str) -> None:
    mode = "P" if image_format == "GIF" else "RGB"
    result = process_image(encode(picture(400, 200).convert(mode), image_format))
    assert result.mime == mime
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.get_format_mimetype() == mime


def test_transparency_is_kept() -> None:
    image = picture(400, 200, "RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))
    result = process_image(encode(image, "PNG"))
    with Image.open(io.BytesIO(result.data)) as stored:
        assert stored.mode == "RGBA"
        assert stored.getpixel((0, 0)) == (0, 0, 0, 0)


def test_animated_gif_keeps_only_its_first_frame() -> None:
    frames = [picture(200, 100).convert("P"), Image.new("P", (200, 100), 3)]
    upload = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    result = process_image(upload)
    with Image.open(io.BytesIO(result.data)) as stored:
        assert getattr(stored, "n_frames", 1) == 1
        pixel = stored.convert("RGB").getpixel((10, 50))
        assert isinstance(pixel, tuple)
        assert pixel[0] > 200


def test_icc_profile_is_applied_then_dropped() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (srgb, profile):
        result = process_image(encode(picture(400, 200), "JPEG", icc_profile=icc))
        assert_no_metadata(result.data)


def test_sixteen_bit_greyscale_keeps_its_tones() -> None:
    result = process_image(encode(Image.new("I;16", (64, 64), 32768), "PNG"))
    with Image.open(io.BytesIO(result.data)) as stored:
        grey = stored.convert("L").getpixel((0, 0))
        assert isinstance(grey, int)
        assert 120 <= grey <= 136


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` but holds almost no data: a bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (7_000, 7_000),  # over our limit, under Pillow's: our own check
        (10_000, 10_000),  # over Pillow's warning threshold (a warning is an error here)
        (30_000, 30_000),  # over Pillow's hard limit: DecompressionBombError
    ],
)
def test_too_many_pixels_is_refused_before_decoding(width: int, height: int) -> None:
    with pytest.raises(PayloadTooLarge, match="pixels"):
        process_image(png_header_only(width, height))


def test_too_many_pixels_is_refused_even_where_bomb_warnings_are_only_warnings() -> None:
    with (
        pytest.warns(Image.DecompressionBombWarning),
        pytest.raises(PayloadTooLarge, match="pixels"),
    ):
        process_image(png_header_only(10_000, 10_000))


def test_pixel_limit_is_configurable() -> None:
    with pytest.raises(PayloadTooLarge):
        process_image(encode(picture(200, 100), "PNG"), ImageLimits(max_pixels=10_000))


def test_too_many_bytes_is_refused_before_decoding() -> None:
    with pytest.raises(PayloadTooLarge, match="bytes"):
        process_image(b"\xff\xd8" + b"\x00" * 2000, ImageLimits(max_bytes=1000))


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "GIF"])
def test_truncated_files_are_refused(image_format: str) -> None:
    mode = "P" if image_format == "GIF" else "RGB"
    whole = encode(picture(600, 300).convert(mode), image_format)
    with pytest.raises(InvalidRequest, match="truncated or corrupt|not a JPEG"):
        process_image(whole[: len(whole) // 2])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, I am plain text",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        b"<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    ],
)
def test_non_images_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidRequest):
        process_image(data)


@pytest.mark.parametrize("image_format", ["BMP", "TIFF", "ICO", "PPM"])
def test_other_image_formats_are_refused(image_format: str) -> None:
    with pytest.raises(InvalidRequest, match="not a JPEG, PNG, WebP or GIF"):
        process_image(encode(picture(64, 32), image_format))


def test_processing_is_deterministic() -> None:
    upload = encode(picture(900, 600), "JPEG", exif=exif())
    assert process_image(upload) == process_image(upload)
