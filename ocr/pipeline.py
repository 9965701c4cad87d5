"""The reading pipeline as small steps: inspect the source, then read each page.

A task queue can run ``inspect_source`` once and ``read_page`` once per page, each a
short step whose result (``PageText.to_dict()``) is stored before the next one runs;
``read_document`` chains the same steps in one call.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from ocr.engine import OcrEngine, get_engine
from ocr.errors import ImageTooLarge, OcrTimeout, TooManyPages, UnreadableFile
from ocr.images import binarise, can_pass_through, image_page_count, load_image_page, open_image
from ocr.pdf import (
    PDFIUM_LOCK,
    open_pdf,
    pdf_page_count,
    rasterise_pdf_page,
    text_layer_page,
)
from ocr.reread import doubtful_lines, reread_check_letters, reread_doubtful_lines
from ocr.results import DocumentText, PageText, SourceInfo
from ocr.settings import DEFAULT_LIMITS, DEFAULT_OPTIONS, OcrLimits, OcrOptions

__all__ = [
    "Source",
    "inspect_source",
    "ocr_page_image",
    "page_image",
    "read_document",
    "read_page",
    "text_layer",
]

#: A file path, the file's bytes, or a binary file object positioned at its start.
Source = str | os.PathLike[str] | bytes | BinaryIO

_IMAGE_MEDIA_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "PPM": "image/x-portable-anymap",
}


def _materialise(source: Source, limits: OcrLimits) -> Path | bytes:
    """Return a path or bytes for ``source``, enforcing the byte limit."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as error:
            raise UnreadableFile(f"cannot read {path}: {error}") from error
        if size > limits.max_bytes:
            raise ImageTooLarge(size, limits.max_bytes, unit="bytes")
        return path
    else:
        data = source.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(len(data), limits.max_bytes, unit="bytes")
    if not data:
        raise UnreadableFile("empty file")
    return data


def _head(data: Path | bytes) -> bytes:
    if isinstance(data, bytes):
        return data[:1024]
    with data.open("rb") as handle:
        return handle.read(1024)


def _is_pdf(data: Path | bytes) -> bool:
    return b"%PDF-" in _head(data)


def inspect_source(source: Source, *, limits: OcrLimits = DEFAULT_LIMITS) -> SourceInfo:
    """Step 1: tell PDF from image and count pages, failing fast on every limit."""
    data = _materialise(source, limits)
    if _is_pdf(data):
        with PDFIUM_LOCK:
            document = open_pdf(data)
            try:
                pages = pdf_page_count(document, limits)
            finally:
                document.close()
        return SourceInfo(kind="pdf", media_type="application/pdf", page_count=pages)
    image = open_image(data, limits)
    try:
        pages = image_page_count(image)
        media_type = _IMAGE_MEDIA_TYPES.get(str(image.format), "application/octet-stream")
    finally:
        image.close()
    if pages > limits.max_pages:
        raise TooManyPages(pages, limits.max_pages)
    return SourceInfo(kind="image", media_type=media_type, page_count=pages)


def text_layer(
    source: Source,
    number: int,
    *,
    options: OcrOptions = DEFAULT_OPTIONS,
    limits: OcrLimits = DEFAULT_LIMITS,
) -> PageText | None:
    """Step 2a: the page from the PDF's own text layer, or None (images, scans)."""
    data = _materialise(source, limits)
    if not _is_pdf(data):
        return None
    with PDFIUM_LOCK:
        document = open_pdf(data)
        try:
            pdf_page_count(document, limits)
            return text_layer_page(
                document, number, dpi=options.dpi, min_chars=options.min_text_layer_chars
            )
        finally:
            document.close()


def page_image(
    source: Source,
    number: int,
    *,
    options: OcrOptions = DEFAULT_OPTIONS,
    limits: OcrLimits = DEFAULT_LIMITS,
) -> Image.Image:
    """Step 2b: the page as an image: rasterised PDF page or decoded image frame."""
    data = _materialise(source, limits)
    if _is_pdf(data):
        with PDFIUM_LOCK:
            document = open_pdf(data)
            try:
                pdf_page_count(document, limits)
                return rasterise_pdf_page(document, number, dpi=options.dpi, limits=limits)
            finally:
                document.close()
    return load_image_page(data, number, limits)


def ocr_page_image(
    image: Image.Image | Path,
    number: int,
    *,
    engine: OcrEngine | None = None,
    options: OcrOptions = DEFAULT_OPTIONS,
    limits: OcrLimits = DEFAULT_LIMITS,
    dpi: int = 0,
) -> PageText:
    """Step 3: OCR one page image with the engine (by default the one named in ``options``).

    The page is binarised first and lines whose identifiers fail their checks are read
    a second time (see ``OcrOptions``); ``dpi`` is the image's resolution if known.
    """
    engine = engine or get_engine(options.engine, lang=options.lang)
    original = image
    if options.binarise:
        if isinstance(original, Path):
            original = load_image_page(original, 1, limits)
        image = binarise(original)
    page = engine.recognize(
        image, page_number=number, timeout_seconds=limits.timeout_seconds, dpi=dpi
    )
    if options.reread_identifiers and doubtful_lines(page):
        if isinstance(original, Path):
            original = load_image_page(original, 1, limits)
        # The second reading sees the page the other way: grey if the first was not.
        other = original if options.binarise else binarise(original)
        page = reread_doubtful_lines(page, other, engine, limits=limits)
        page = reread_check_letters(page, other, engine, limits=limits)
    return page


def read_page(
    source: Source,
    number: int,
    *,
    engine: OcrEngine | None = None,
    options: OcrOptions = DEFAULT_OPTIONS,
    limits: OcrLimits = DEFAULT_LIMITS,
) -> PageText:
    """Read page ``number`` (1-based): the text layer when there is one, otherwise OCR."""
    data = _materialise(source, limits)
    if _is_pdf(data):
        with PDFIUM_LOCK:
            document = open_pdf(data)
            try:
                pdf_page_count(document, limits)
                page = text_layer_page(
                    document, number, dpi=options.dpi, min_chars=options.min_text_layer_chars
                )
                if page is not None:
                    return page
                image = rasterise_pdf_page(document, number, dpi=options.dpi, limits=limits)
            finally:
                document.close()
        return ocr_page_image(
            image, number, engine=engine, options=options, limits=limits, dpi=options.dpi
        )
    header = open_image(data, limits)
    try:
        direct = (
            isinstance(data, Path)
            and number == 1
            and not options.binarise
            and can_pass_through(header)
        )
        dpi = _image_dpi(header)
    finally:
        header.close()
    if direct:
        # The file goes to the engine untouched: no decode and re-encode.
        assert isinstance(data, Path)
        return ocr_page_image(data, number, engine=engine, options=options, limits=limits, dpi=dpi)
    image = load_image_page(data, number, limits)
    return ocr_page_image(image, number, engine=engine, options=options, limits=limits, dpi=dpi)


def _image_dpi(image: Image.Image) -> int:
    dpi = image.info.get("dpi")
    try:
        return round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError, IndexError):
        return 0


def read_document(
    source: Source,
    *,
    engine: OcrEngine | None = None,
    options: OcrOptions = DEFAULT_OPTIONS,
    limits: OcrLimits = DEFAULT_LIMITS,
) -> DocumentText:
    """Read every page, within ``limits.document_timeout_seconds`` overall."""
    data = _materialise(source, limits)
    data_source: Source = data
    info = inspect_source(data_source, limits=limits)
    engine = engine or get_engine(options.engine, lang=options.lang)
    deadline = time.monotonic() + limits.document_timeout_seconds
    pages: list[PageText] = []
    for number in range(1, info.page_count + 1):
        if time.monotonic() > deadline:
            raise OcrTimeout(
                f"document not read after {limits.document_timeout_seconds} s "
                f"({number - 1} of {info.page_count} pages)"
            )
        pages.append(read_page(data_source, number, engine=engine, options=options, limits=limits))
    return DocumentText(source=info, pages=tuple(pages))
