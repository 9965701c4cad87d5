"""Opening images safely: pixel limits against decompression bombs, and normalising for OCR."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ocr.errors import ImageTooLarge, UnreadableFile
from ocr.settings import DEFAULT_LIMITS, OcrLimits

__all__ = [
    "binarise",
    "check_pixels",
    "image_page_count",
    "load_image_page",
    "open_image",
    "otsu_threshold",
]

#: Formats tesseract (leptonica) reads directly, so a file on disk can be passed through as is.
PASS_THROUGH_FORMATS = frozenset({"PNG", "JPEG", "TIFF", "BMP", "PPM"})


def check_pixels(width: int, height: int, limits: OcrLimits = DEFAULT_LIMITS) -> None:
    """Raise ``ImageTooLarge`` when a ``width`` × ``height`` image is over the pixel limit."""
    pixels = width * height
    if pixels > limits.max_pixels:
        raise ImageTooLarge(pixels, limits.max_pixels)


@contextmanager
def _pillow_guard(limits: OcrLimits) -> Iterator[None]:
    """Turn Pillow's own bomb checks and decoding errors into ``OcrError``s.

    Our own limit is checked on the header before any decoding; Pillow's global
    ``MAX_IMAGE_PIXELS`` is left as it is (other code in the process may rely on
    it), its warning is silenced and its error, raised for images twice over its
    limit, is reported as ``ImageTooLarge``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            yield
        except Image.DecompressionBombError as error:
            raise ImageTooLarge(0, limits.max_pixels) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise UnreadableFile(f"cannot read image: {error}") from error


def open_image(source: Path | bytes, limits: OcrLimits = DEFAULT_LIMITS) -> Image.Image:
    """Open an image lazily (header only) after checking its size against the limits."""
    with _pillow_guard(limits):
        image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        check_pixels(image.width, image.height, limits)
        return image


def image_page_count(image: Image.Image) -> int:
    """Return the number of frames (pages) of an image, 1 for single-frame formats."""
    return int(getattr(image, "n_frames", 1) or 1)


def load_image_page(
    source: Path | bytes, number: int, limits: OcrLimits = DEFAULT_LIMITS
) -> Image.Image:
    """Decode page ``number`` (1-based) of an image, upright and in a mode tesseract reads."""
    with _pillow_guard(limits):
        image = open_image(source, limits)
        if not 1 <= number <= image_page_count(image):
            raise UnreadableFile(f"image has no page {number}")
        if number > 1:
            image.seek(number - 1)
            check_pixels(image.width, image.height, limits)
        image.load()
        return _normalise(image)


def _normalise(image: Image.Image) -> Image.Image:
    """Apply EXIF orientation and flatten transparency onto white."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("1", "L", "RGB"):
        return image
    if image.mode == "P" and "transparency" not in image.info:
        return image.convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return image.point(lambda value: value / 256).convert("L")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def can_pass_through(image: Image.Image) -> bool:
    """Tell whether tesseract can read this image's file directly, unchanged."""
    if image.format not in PASS_THROUGH_FORMATS or image_page_count(image) != 1:
        return False
    if image.mode not in ("1", "L", "RGB"):
        return False
    orientation = image.getexif().get(0x0112, 1)
    return bool(orientation == 1)


def otsu_threshold(histogram: list[int]) -> int:
    """Return the grey level that best splits a 256-bin histogram into ink and paper (Otsu)."""
    total = sum(histogram)
    weighted_total = sum(level * count for level, count in enumerate(histogram))
    below = weighted_below = 0
    best_level, best_variance = 127, -1.0
    for level, count in enumerate(histogram):
        below += count
        if below == 0:
            continue
        above = total - below
        if above == 0:
            break
        weighted_below += level * count
        mean_below = weighted_below / below
        mean_above = (weighted_total - weighted_below) / above
        variance = below * above * (mean_below - mean_above) ** 2
        if variance > best_variance:
            best_level, best_variance = level, variance
    return best_level


def binarise(image: Image.Image) -> Image.Image:
    """Turn a page black and white with one Otsu threshold.

    Tesseract's recogniser reads the grey image, and scanner grain makes it misread
    digits (7 as /, 8 as 6); a clean black-and-white page avoids that and is smaller
    to hand over.
    """
    grey = image if image.mode == "L" else image.convert("L")
    if image.mode == "1":
        return image
    threshold = otsu_threshold(grey.histogram())
    return grey.point([255 if level > threshold else 0 for level in range(256)], mode="1")
