"""PDF steps: open and count pages, read the text layer, rasterise, and make a searchable PDF/A."""

from __future__ import annotations

import ctypes
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from ocr.errors import (
    EngineUnavailable,
    ImageTooLarge,
    OcrTimeout,
    SearchablePdfFailed,
    TooManyPages,
    UnreadableFile,
)
from ocr.images import check_pixels
from ocr.results import PageText, Word
from ocr.settings import DEFAULT_LIMITS, OcrLimits

__all__ = [
    "PDFIUM_LOCK",
    "SearchablePdf",
    "make_searchable_pdf",
    "open_pdf",
    "pdf_page_count",
    "rasterise_pdf_page",
    "text_layer_page",
]

_PDFIUM = pdfium.raw

#: pdfium is not thread-safe, not even across documents: two threads rendering at once (a web
#: server's threads drawing page images side by side) crash the process. Hold this from
#: opening a document until it is closed.
PDFIUM_LOCK = threading.RLock()


def open_pdf(source: Path | bytes) -> pdfium.PdfDocument:
    """Open a PDF with pdfium; raise ``UnreadableFile`` when it is corrupt or encrypted."""
    try:
        return pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    except pdfium.PdfiumError as error:
        raise UnreadableFile(f"cannot open PDF: {error}") from error


def pdf_page_count(document: pdfium.PdfDocument, limits: OcrLimits = DEFAULT_LIMITS) -> int:
    """Return the page count, raising ``TooManyPages`` before anything is rendered."""
    pages = len(document)
    if pages > limits.max_pages:
        raise TooManyPages(pages, limits.max_pages)
    if pages == 0:
        raise UnreadableFile("PDF has no pages")
    return pages


def _page_pixels(page: pdfium.PdfPage, dpi: int) -> tuple[int, int]:
    """Size in pixels of ``page`` rendered at ``dpi``."""
    width_points, height_points = page.get_size()
    scale = dpi / 72
    return max(1, math.ceil(width_points * scale)), max(1, math.ceil(height_points * scale))


def text_layer_page(
    document: pdfium.PdfDocument, number: int, *, dpi: int = 300, min_chars: int = 16
) -> PageText | None:
    """Read page ``number`` (1-based) from the PDF's text layer, or None when it has too little."""
    page = _get_page(document, number)
    try:
        width, height = _page_pixels(page, dpi)
        textpage = page.get_textpage()
        try:
            words = _words_from_textpage(page, textpage, width, height)
        finally:
            textpage.close()
    except pdfium.PdfiumError as error:
        raise UnreadableFile(f"cannot read text of page {number}: {error}") from error
    finally:
        page.close()
    characters = "".join(word.text for word in words)
    if len(characters) < min_chars or _looks_garbled(characters):
        return None
    return PageText.from_words(number, words, width, height, method="text_layer", dpi=dpi)


def rasterise_pdf_page(
    document: pdfium.PdfDocument,
    number: int,
    *,
    dpi: int = 300,
    limits: OcrLimits = DEFAULT_LIMITS,
) -> Image.Image:
    """Render page ``number`` (1-based) in grayscale at ``dpi``, after checking the pixel limit."""
    page = _get_page(document, number)
    try:
        width, height = _page_pixels(page, dpi)
        check_pixels(width, height, limits)
        bitmap = page.render(scale=dpi / 72, grayscale=True, may_draw_forms=True)
        try:
            image: Image.Image = bitmap.to_pil()
            return image.copy()
        finally:
            bitmap.close()
    except pdfium.PdfiumError as error:
        raise UnreadableFile(f"cannot render page {number}: {error}") from error
    finally:
        page.close()


def _get_page(document: pdfium.PdfDocument, number: int) -> pdfium.PdfPage:
    if not 1 <= number <= len(document):
        raise UnreadableFile(f"PDF has no page {number}")
    try:
        return document[number - 1]
    except pdfium.PdfiumError as error:
        raise UnreadableFile(f"cannot load page {number}: {error}") from error


def _looks_garbled(characters: str) -> bool:
    """Tell whether a text layer is mostly unmapped glyphs (fonts without a ToUnicode map)."""
    bad = sum(
        1
        for char in characters
        if char == "\ufffd" or unicodedata.category(char) in ("Co", "Cn", "Cc", "Cs")
    )
    return bad > len(characters) * 0.1


def _words_from_textpage(
    page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, width: int, height: int
) -> list[Word]:
    """Group the text page's characters into words with boxes in rendered-page pixels.

    A word's box is taken in page points from its characters' boxes and turned into pixels
    once: PageToDevice (the page's own /Rotate and crop box, like rendering) keeps boxes
    upright and is monotonic along each axis, so the corners of the box in points land on
    the corners of the box in pixels, as if every character had been turned on its own.
    """
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    text_raw = textpage.raw
    get_unicode = _PDFIUM.FPDFText_GetUnicode
    get_box = _PDFIUM.FPDFText_GetCharBox

    def to_device(x: float, y: float) -> tuple[int, int]:
        _PDFIUM.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, x, y, device_x, device_y)
        return device_x.value, device_y.value

    words: list[Word] = []
    chars: list[str] = []
    # the word's extent in page points: smallest left and bottom, largest right and top
    x0 = y0 = x1 = y1 = 0.0
    line = 0
    new_line = False

    def flush() -> None:
        if chars:
            a_x, a_y = to_device(x0, y0)
            b_x, b_y = to_device(x1, y1)
            box = (min(a_x, b_x), min(a_y, b_y), max(a_x, b_x), max(a_y, b_y))
            words.append(Word("".join(chars), 100.0, box, f"t{line}"))
            chars.clear()

    for index in range(textpage.count_chars()):
        code = get_unicode(text_raw, index)
        char = chr(code) if 0 < code < 0x110000 else ""
        if char in ("\r", "\n"):
            flush()
            new_line = True
            continue
        if not char or char.isspace() or char in ("\u00ad", "\ufffe"):
            flush()
            continue
        if new_line:
            line += 1
            new_line = False
        get_box(text_raw, index, left, right, bottom, top)
        if chars:
            if left.value < x0:
                x0 = left.value
            if bottom.value < y0:
                y0 = bottom.value
            if right.value > x1:
                x1 = right.value
            if top.value > y1:
                y1 = top.value
        else:
            x0, y0, x1, y1 = left.value, bottom.value, right.value, top.value
        chars.append(char)
    flush()
    return words


@dataclass(frozen=True, slots=True)
class SearchablePdf:
    """The searchable copy made by ``make_searchable_pdf``."""

    path: Path
    #: False when ocrmypdf made a valid PDF but could not make it PDF/A.
    pdfa: bool
    seconds: float


#: ocrmypdf exit codes (``ocrmypdf.ExitCode``) that are worth telling apart.
_EXIT_OK = 0
_EXIT_INPUT_FILE = 2
_EXIT_MISSING_DEPENDENCY = 3
_EXIT_ALREADY_HAS_TEXT = 6
_EXIT_ENCRYPTED = 8
_EXIT_PDFA_FAILED = 10


def make_searchable_pdf(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    lang: str = "spa+eng",
    limits: OcrLimits = DEFAULT_LIMITS,
    image_dpi: int = 300,
) -> SearchablePdf:
    """Write a searchable PDF/A copy of ``src_path`` to ``dst_path``, leaving the original alone.

    ocrmypdf runs in its own process group so that a hang or crash is contained and
    can be killed after ``limits.document_timeout_seconds``. A PDF that already has
    text on some pages keeps it, and its copy is then a plain PDF (``pdfa=False``).
    The copy is written beside ``dst_path`` and renamed into place only when complete.
    """
    source = Path(src_path)
    target = Path(dst_path)
    if not source.is_file():
        raise UnreadableFile(f"{source} is not a file")
    if target.resolve() == source.resolve():
        raise ValueError("the searchable copy must not replace the original")
    size = source.stat().st_size
    if size > limits.max_bytes:
        raise ImageTooLarge(size, limits.max_bytes, unit="bytes")
    with source.open("rb") as handle:
        is_pdf = b"%PDF-" in handle.read(1024)
    if is_pdf:
        with PDFIUM_LOCK:
            document = open_pdf(source)
            try:
                pdf_page_count(document, limits)
            finally:
                document.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    deadline = started + limits.document_timeout_seconds
    with tempfile.TemporaryDirectory(prefix=".ocr-", dir=target.parent) as workdir:
        partial = Path(workdir) / "out.pdf"
        base = [
            sys.executable,
            "-m",
            "ocrmypdf",
            "--quiet",
            "--language",
            lang,
            "--jobs",
            "1",
            "--optimize",
            "0",
            "--tesseract-timeout",
            str(int(limits.timeout_seconds)),
            "--skip-big",
            str(limits.max_pixels / 1_000_000),
        ]
        if not is_pdf:
            base += ["--image-dpi", str(image_dpi)]
        files = ["--", str(source), str(partial)]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "TMPDIR": workdir}
        returncode, stderr = _run_contained(
            [*base, "--output-type", "pdfa", *files], env, deadline - time.monotonic()
        )
        pdfa = returncode == _EXIT_OK
        if returncode == _EXIT_ALREADY_HAS_TEXT:
            # Some pages have text already. Keeping it ("skip" mode) through Ghostscript's
            # PDF/A conversion corrupts it with some Ghostscript releases, so this copy
            # is a plain PDF: the scanned pages get text, the others stay as they are.
            returncode, stderr = _run_contained(
                [*base, "--mode", "skip", "--output-type", "pdf", *files],
                env,
                deadline - time.monotonic(),
            )
            pdfa = False
        if returncode == _EXIT_ENCRYPTED:
            raise UnreadableFile("the PDF is encrypted")
        if returncode == _EXIT_INPUT_FILE:
            raise UnreadableFile(f"ocrmypdf cannot read the input: {stderr}")
        if returncode == _EXIT_MISSING_DEPENDENCY:
            raise EngineUnavailable(f"ocrmypdf is missing a program: {stderr}")
        if returncode not in (_EXIT_OK, _EXIT_PDFA_FAILED) or not partial.is_file():
            raise SearchablePdfFailed(f"ocrmypdf exited with {returncode}: {stderr}")
        shutil.move(str(partial), target)
    return SearchablePdf(
        path=target,
        pdfa=pdfa,
        seconds=round(time.monotonic() - started, 3),
    )


def _run_contained(command: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run ``command`` in a new process group; kill the whole group on timeout."""
    process = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=max(timeout, 0.001))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise OcrTimeout(f"searchable PDF not done after {timeout} s") from None
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    message = stderr.decode("utf-8", "replace").strip().splitlines()
    return process.returncode, " ".join(message[-3:])
