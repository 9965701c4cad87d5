"""Limits and options for reading documents."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "DEFAULT_OPTIONS", "OcrLimits", "OcrOptions"]


@dataclass(frozen=True, slots=True)
class OcrLimits:
    """Resource limits; exceeding one raises the matching ``OcrError`` subclass."""

    max_pages: int = 500
    #: Pixels of one page image; A4 at 300 dpi is 8.7 million.
    max_pixels: int = 60_000_000
    #: Seconds for the OCR of one page.
    timeout_seconds: float = 120.0
    #: Seconds for a whole document in ``read_document`` and ``make_searchable_pdf``.
    document_timeout_seconds: float = 1800.0
    max_bytes: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        if min(self.max_pages, self.max_pixels, self.max_bytes) <= 0:
            raise ValueError("limits must be positive")
        if self.timeout_seconds <= 0 or self.document_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")


@dataclass(frozen=True, slots=True)
class OcrOptions:
    """How pages are read: engine, languages and rasterisation resolution."""

    engine: str = "tesseract"
    lang: str = "spa+eng"
    dpi: int = 300
    #: A PDF page whose text layer has fewer visible characters than this is OCRed instead.
    min_text_layer_chars: int = 16
    #: Turn pages black and white (Otsu) before OCR; scanner grain confuses tesseract.
    binarise: bool = True
    #: Read again, differently prepared, lines where an identifier should be but none checks.
    reread_identifiers: bool = True

    def __post_init__(self) -> None:
        if not 50 <= self.dpi <= 1200:
            raise ValueError("dpi must be between 50 and 1200")


DEFAULT_LIMITS = OcrLimits()
DEFAULT_OPTIONS = OcrOptions()
