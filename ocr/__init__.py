"""OCR library: read PDFs and images page by page, extract Spanish data, fill forms.

Typical use, one short step each::

    info = inspect_source(path)                      # kind and page count, limits checked
    pages = [read_page(path, n) for n in range(1, info.page_count + 1)]
    form = fill_form("datos_nomina", pages)          # {field: FieldValue}
    make_searchable_pdf(path, copy_path)             # PDF/A copy, original untouched

Every error is an ``OcrError`` whose ``code`` (``too_many_pages``, ``image_too_large``,
``ocr_timeout``, ``unreadable_file``…) can be stored as a document's OCR status.
"""

from ocr.engine import OcrEngine, TesseractEngine, available_engines, get_engine, register_engine
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
