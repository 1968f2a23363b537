"""Photo-like test images for the hash-matching tests, and their encodings."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter


def photo(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A photo-like picture: colour gradients, overlapping shapes, blur and sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(float)
    base = np.zeros((height, width, 3))
    for channel in range(3):
        a, b, phase = rng.uniform(-1, 1, 3)
        base[..., channel] = 128 + 60 * np.sin(a * x / 80 + b * y / 60 + phase * 6)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        cx, cy, r = (
            int(rng.integers(0, width)),
            int(rng.integers(0, height)),
            int(rng.integers(20, 120)),
        )
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
        else:
            draw.rectangle([cx - r, cy - r // 2, cx + r, cy + r // 2], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1.5))
    noisy = np.asarray(image).astype(int) + rng.normal(0, 8, (height, width, 3)).astype(int)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def edited_copy(image: Image.Image) -> bytes:
    """Brightened by 15 %, resized to 400×300, rotated a quarter turn, saved as JPEG."""
    edited = ImageEnhance.Brightness(image).enhance(1.15).resize((400, 300))
    return encode(edited.transpose(Image.Transpose.ROTATE_90), "JPEG")
