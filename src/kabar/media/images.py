"""Image uploads for public pages: check, orient, strip metadata, re-encode, resize.

Every uploaded image is decoded and written out again, so what we store and
serve is pixels we produced — never the uploader's bytes:

1. **Size first:** more than ``max_bytes`` is refused before decoding.
2. **Real format from the bytes** (Pillow restricted to JPEG, PNG, WebP and
   GIF; the file name and declared type are ignored). Anything else, and any
   truncated or corrupt file, is refused.
3. **Decompression bombs:** the pixel count in the header is checked against
   ``max_pixels`` before any pixel is decoded. Pillow's own guard
   (``Image.MAX_IMAGE_PIXELS``, a process-wide setting we leave alone) may
   fire first for huge headers: its ``DecompressionBombError`` and — where
   warnings are errors, as in the tests — ``DecompressionBombWarning`` are
   refused the same way; where the warning is only a warning, our own check
   still refuses.
4. **Upright:** the EXIF orientation is applied to the pixels.
5. **No metadata:** EXIF (GPS, camera serials, times), XMP, IPTC, comments
   and text chunks are all dropped. An embedded ICC profile is used to convert
   the pixels to sRGB, then dropped too: outputs are untagged sRGB, as the web
   assumes, and wide-gamut photos keep their colours (near enough).
6. **Animation:** only the first frame of an animated GIF, WebP or PNG is
   kept. Animation multiplies decode cost and memory by the frame count and
   is rarely what a long-form article needs; a still is always safe.
7. **Re-encode:** JPEG stays JPEG, PNG and GIF become PNG (lossless), WebP
   stays WebP. **Variants** at the configured widths (default 320, 768 and
   1600 px; never upscaled) are WebP by default, for ``srcset``.

This is CPU-bound and blocking: call it from a worker thread or process,
never on the event loop. See ``docs/public-accounts.md``.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from kabar.errors import ErrorCode, InvalidRequest, PayloadTooLarge

OutputFormat = Literal["jpeg", "png", "webp"]

# The decoders Pillow may try, and the format each is stored as.
_OPENERS = ("JPEG", "PNG", "WEBP", "GIF")
_STORED_AS: dict[str, OutputFormat] = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "png"}
_STORED_AS["MPO"] = "jpeg"  # multi-picture JPEG from some cameras; the JPEG decoder yields it
_MIME: dict[OutputFormat, str] = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# What a damaged file makes Pillow's decoders raise, besides OSError.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError)
_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}


@dataclass(frozen=True)
class ImageLimits:
    """What an upload may be, and what we make of it."""

    max_bytes: int = 15 * 1024 * 1024
    max_pixels: int = 40_000_000
    """Width × height. Decoding needs about 4 bytes per pixel, plus copies."""
    variant_widths: tuple[int, ...] = (320, 768, 1600)
    variant_format: Literal["webp", "jpeg"] = "webp"
    quality: int = 85
    """Lossy quality for the stored image and its variants (JPEG/WebP scale, 1–95)."""


DEFAULT_LIMITS = ImageLimits()


@dataclass(frozen=True)
class ImageVariant:
    data: bytes
    mime: str
    width: int
    height: int
    sha256: str
    """Hex SHA-256 of ``data``."""


@dataclass(frozen=True)
class ProcessedImage:
    """A cleaned upload: the full-size image we store, and its smaller variants."""

    data: bytes
    mime: str
    width: int
    height: int
    sha256: str
    """Hex SHA-256 of ``data`` (what is stored, not what was uploaded)."""
    variants: tuple[ImageVariant, ...]
    """Narrowest first; only widths below ``width``."""


def process_image(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> ProcessedImage:
    """Validate and clean an uploaded image; see the module docstring for every step.

    Raises :class:`PayloadTooLarge` for too many bytes or pixels, and
    :class:`InvalidRequest` for anything that is not a whole JPEG, PNG, WebP or GIF.
    """
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(
            f"image is {len(data)} bytes; the limit is {limits.max_bytes}",
            data={"limit": limits.max_bytes},
        )
    pixels, output_format = _decode(data, limits)
    stored = _encode(pixels, output_format, limits.quality)
    return ProcessedImage(
        data=stored,
        mime=_MIME[output_format],
        width=pixels.width,
        height=pixels.height,
        sha256=hashlib.sha256(stored).hexdigest(),
        variants=tuple(_variants(pixels, limits)),
    )


def _decode(data: bytes, limits: ImageLimits) -> tuple[Image.Image, OutputFormat]:
    """Upright, sRGB, metadata-free pixels of the first frame, and the format to store."""
    try:
        with Image.open(io.BytesIO(data), formats=_OPENERS) as image:
            _check_pixels(image.width, image.height, limits)
            output_format = _STORED_AS.get(str(image.format))
            if output_format is None:  # a decoder we allowed reported a format we did not
                raise _invalid("not a JPEG, PNG, WebP or GIF image")
            image.load()
            clean = _clean(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(limits) from exc
    except UnidentifiedImageError as exc:
        raise _invalid("not a JPEG, PNG, WebP or GIF image") from exc
    except _DECODE_ERRORS as exc:
        raise _invalid("the image is truncated or corrupt") from exc
    return clean, output_format


def _check_pixels(width: int, height: int, limits: ImageLimits) -> None:
    if width < 1 or height < 1:
        raise _invalid("the image has no pixels")
    if width * height > limits.max_pixels:
        raise _too_many_pixels(limits)


def _clean(image: Image.Image) -> Image.Image:
    """A new image holding only pixels: oriented, in sRGB, 8 bits, RGB or RGBA."""
    icc_profile = image.info.get("icc_profile")
    oriented = _oriented(image)
    if isinstance(icc_profile, bytes) and icc_profile:
        oriented = _to_srgb(oriented, icc_profile)
    if oriented.mode in _SIXTEEN_BIT_MODES:
        oriented = oriented.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = oriented.has_transparency_data
    clean = oriented.convert("RGBA" if has_alpha else "RGB")
    # convert() copies ``info`` (EXIF, XMP, ICC, comments …) and some encoders
    # write whatever they find there; a stored image carries none of it.
    clean.info = {}
    return clean


def _oriented(image: Image.Image) -> Image.Image:
    try:
        oriented = ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        return image  # unreadable EXIF: keep the pixels as stored, still strip the EXIF
    return image if oriented is None else oriented


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image:
    """Convert pixels described by ``icc_profile`` to sRGB; on any trouble, keep them as is."""
    if image.mode not in {"RGB", "RGBA", "CMYK", "L"}:
        return image
    output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode
        )
    except (ImageCms.PyCMSError, *_DECODE_ERRORS):
        return image
    return image if converted is None else converted


def _encode(image: Image.Image, output_format: OutputFormat, quality: int) -> bytes:
    buffer = io.BytesIO()
    if output_format == "jpeg":
        image.convert("RGB").save(buffer, "JPEG", quality=quality, optimize=True)
    elif output_format == "webp":
        image.save(buffer, "WEBP", quality=quality, method=4)
    else:
        image.save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _variants(image: Image.Image, limits: ImageLimits) -> list[ImageVariant]:
    variants = []
    for width in sorted(set(limits.variant_widths)):
        if width >= image.width:
            break  # never upscale; the stored image serves the larger sizes
        height = max(1, round(image.height * width / image.width))
        resized = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        if limits.variant_format == "jpeg" and resized.mode == "RGBA":
            resized = _flatten(resized)
        data = _encode(resized, limits.variant_format, limits.quality)
        variants.append(
            ImageVariant(
                data=data,
                mime=_MIME[limits.variant_format],
                width=width,
                height=height,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    return variants


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG has no alpha: put transparent images on white rather than on black."""
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _too_many_pixels(limits: ImageLimits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"image has more than {limits.max_pixels} pixels",
        data={"limit_pixels": limits.max_pixels},
    )


def _invalid(detail: str) -> InvalidRequest:
    return InvalidRequest(detail, code=ErrorCode.INVALID_REQUEST, data={"field": "image"})
