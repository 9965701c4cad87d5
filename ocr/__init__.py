"""OCR library: read PDFs and images page by page, extract Spanish data, fill forms.

Typical use, one short step each::

    info = inspect_source(path)                      # kind and page count, limits checked
    pages = [read_page(path, n) for n in range(1, info.page_count + 1)]
    form = fill_form("datos_nomina", pages)          # {field: FieldValue}
    make_searchable_pdf(path, copy_path)             # PDF/A copy, original untouched

Every error is an ``OcrError`` whose ``code`` (``too_many_pages``, ``image_too_large``,
``ocr_timeout``, ``unreadable_file``…) can be stored as a document's OCR status.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ocr.engine import (
        OcrEngine,
        TesseractEngine,
        available_engines,
        get_engine,
        register_engine,
    )
    from ocr.errors import (
        EngineUnavailable,
        ImageTooLarge,
        OcrError,
        OcrTimeout,
        SearchablePdfFailed,
        TooManyPages,
        UnknownTemplate,
        UnreadableFile,
    )
    from ocr.forms import (
        LOW_CONFIDENCE,
        FieldSpec,
        FieldValue,
        FormTemplate,
        fill_form,
        get_template,
        list_templates,
    )
    from ocr.pdf import SearchablePdf, make_searchable_pdf
    from ocr.pipeline import (
        Source,
        inspect_source,
        ocr_page_image,
        page_image,
        read_document,
        read_page,
        text_layer,
    )
    from ocr.results import Box, DocumentText, PageText, SourceInfo, Word
    from ocr.settings import DEFAULT_LIMITS, DEFAULT_OPTIONS, OcrLimits, OcrOptions

# Each public name and the submodule that defines it. A submodule is imported only
# when one of its names is first used, so that importing the package stays cheap.
_SOURCES = {
    "OcrEngine": "ocr.engine",
    "TesseractEngine": "ocr.engine",
    "available_engines": "ocr.engine",
    "get_engine": "ocr.engine",
    "register_engine": "ocr.engine",
    "EngineUnavailable": "ocr.errors",
    "ImageTooLarge": "ocr.errors",
    "OcrError": "ocr.errors",
    "OcrTimeout": "ocr.errors",
    "SearchablePdfFailed": "ocr.errors",
    "TooManyPages": "ocr.errors",
    "UnknownTemplate": "ocr.errors",
    "UnreadableFile": "ocr.errors",
    "LOW_CONFIDENCE": "ocr.forms",
    "FieldSpec": "ocr.forms",
    "FieldValue": "ocr.forms",
    "FormTemplate": "ocr.forms",
    "fill_form": "ocr.forms",
    "get_template": "ocr.forms",
    "list_templates": "ocr.forms",
    "SearchablePdf": "ocr.pdf",
    "make_searchable_pdf": "ocr.pdf",
    "Source": "ocr.pipeline",
    "inspect_source": "ocr.pipeline",
    "ocr_page_image": "ocr.pipeline",
    "page_image": "ocr.pipeline",
    "read_document": "ocr.pipeline",
    "read_page": "ocr.pipeline",
    "text_layer": "ocr.pipeline",
    "Box": "ocr.results",
    "DocumentText": "ocr.results",
    "PageText": "ocr.results",
    "SourceInfo": "ocr.results",
    "Word": "ocr.results",
    "DEFAULT_LIMITS": "ocr.settings",
    "DEFAULT_OPTIONS": "ocr.settings",
    "OcrLimits": "ocr.settings",
    "OcrOptions": "ocr.settings",
}

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_OPTIONS",
    "LOW_CONFIDENCE",
    "Box",
    "DocumentText",
    "EngineUnavailable",
    "FieldSpec",
    "FieldValue",
    "FormTemplate",
    "ImageTooLarge",
    "OcrEngine",
    "OcrError",
    "OcrLimits",
    "OcrOptions",
    "OcrTimeout",
    "PageText",
    "SearchablePdf",
    "SearchablePdfFailed",
    "Source",
    "SourceInfo",
    "TesseractEngine",
    "TooManyPages",
    "UnknownTemplate",
    "UnreadableFile",
    "Word",
    "available_engines",
    "fill_form",
    "get_engine",
    "get_template",
    "inspect_source",
    "list_templates",
    "make_searchable_pdf",
    "ocr_page_image",
    "page_image",
    "read_document",
    "read_page",
    "register_engine",
    "text_layer",
]


def __getattr__(name: str) -> object:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
