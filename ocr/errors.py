"""Exceptions raised by the OCR library, each with a stable status code."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "EngineUnavailable",
    "ImageTooLarge",
    "OcrError",
    "OcrTimeout",
    "SearchablePdfFailed",
    "TooManyPages",
    "UnknownTemplate",
    "UnreadableFile",
]


class OcrError(Exception):
    """Base class of every error raised by ``ocr``."""

    code: ClassVar[str] = "ocr_error"


class UnreadableFile(OcrError):
    """The input is not a PDF or image that can be read (corrupt, encrypted, unknown type)."""

    code = "unreadable_file"


class TooManyPages(OcrError):
    """The document has more pages than the limits allow."""

    code = "too_many_pages"

    def __init__(self, pages: int, limit: int) -> None:
        super().__init__(f"document has {pages} pages, the limit is {limit}")
        self.pages = pages
        self.limit = limit


class ImageTooLarge(OcrError):
    """A page image has more pixels (or the file more bytes) than allowed: a decompression bomb."""

    code = "image_too_large"

    def __init__(self, size: int, limit: int, unit: str = "pixels") -> None:
        super().__init__(f"{unit}: {size} is over the limit of {limit}")
        self.size = size
        self.limit = limit
        self.unit = unit


class OcrTimeout(OcrError):
    """OCR of a page, or a whole conversion, took longer than allowed."""

    code = "ocr_timeout"


class EngineUnavailable(OcrError):
    """The OCR engine asked for is not registered or its program is not installed."""

    code = "engine_unavailable"


class SearchablePdfFailed(OcrError):
    """ocrmypdf could not make the searchable copy."""

    code = "searchable_pdf_failed"


class UnknownTemplate(OcrError):
    """No form template has the given name."""

    code = "unknown_template"
