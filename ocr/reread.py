"""A second reading of lines where an identifier should be but none passes its check."""

from __future__ import annotations

import re
from dataclasses import replace

from PIL import Image

from ocr.engine import OcrEngine, TesseractEngine
from ocr.extractors import find_identifiers
from ocr.results import PageText, Word, union_box
from ocr.settings import DEFAULT_LIMITS, OcrLimits

__all__ = ["doubtful_lines", "reread_doubtful_lines"]

#: Labels that promise a DNI, NIE, CIF or IBAN after them.
_LABEL = re.compile(r"\b(?:c\.?i\.?f|n\.?i\.?[fe]|d\.?n\.?i|iban)\b", re.I)
#: A token as long as a DNI, NIE or CIF (maybe one more), or the start of an IBAN.
_TOKEN = re.compile(r"[0-9A-Za-z$|\]\[!]+")
_IBAN_START = re.compile(r"(?<![0-9A-Za-z])[A-Z][A-Z5]\d\d(?![0-9A-Za-z])")


def _has_code(text: str) -> bool:
    """Tell whether a line holds something shaped like a (misread) identifier."""
    if _IBAN_START.search(text):
        return True
    return any(
        len(token) in (9, 10) and sum(c.isdigit() for c in token) >= 6
        for token in _TOKEN.findall(text)
    )


#: At most this many lines are read again per page, to bound the extra time.
MAX_REREADS = 4


def _lines(page: PageText) -> dict[str, list[int]]:
    lines: dict[str, list[int]] = {}
    for index, word in enumerate(page.words):
        lines.setdefault(word.line_key, []).append(index)
    return lines


def _identifier_count(text: str) -> int:
    return len(find_identifiers(text))


def doubtful_lines(page: PageText) -> list[str]:
    """Line keys of lines with fewer checked identifiers than their labels (or codes) promise."""
    doubtful = []
    for key, indices in _lines(page).items():
        text = " ".join(page.words[i].text for i in indices)
        if sum(c.isdigit() for c in text) < 7:
            continue
        promised = len(_LABEL.findall(text)) or int(_has_code(text))
        if _identifier_count(text) < promised:
            doubtful.append(key)
    return doubtful[:MAX_REREADS]


def reread_doubtful_lines(
    page: PageText,
    image: Image.Image,
    engine: OcrEngine,
    *,
    limits: OcrLimits = DEFAULT_LIMITS,
) -> PageText:
    """Read doubtful lines again from ``image`` as single lines; keep readings with more IDs.

    ``image`` should differ from what the page was read from (say the grey scan when the
    page was read black and white), so that the second reading errs differently. A new
    reading replaces a line only when more identifiers in it pass their checks.
    """
    keys = doubtful_lines(page)
    if not keys:
        return page
    if isinstance(engine, TesseractEngine):
        engine = replace(engine, psm=7)  # a single text line
    lines = _lines(page)
    words = list(page.words)
    replaced: dict[str, list[Word]] = {}
    for key in keys:
        old = [words[i] for i in lines[key]]
        x0, y0, x1, y1 = union_box(w.box for w in old)
        pad = max(8, (y1 - y0) // 2)
        crop_box = (
            max(0, x0 - pad),
            max(0, y0 - pad),
            min(image.width, x1 + pad),
            min(image.height, y1 + pad),
        )
        crop = image.crop(crop_box)
        reread = engine.recognize(
            crop, page_number=page.number, timeout_seconds=limits.timeout_seconds, dpi=page.dpi
        )
        before = _identifier_count(" ".join(w.text for w in old))
        after = _identifier_count(reread.text)
        if after > before:
            dx, dy = crop_box[0], crop_box[1]
            replaced[key] = [
                Word(
                    w.text,
                    w.confidence,
                    (w.box[0] + dx, w.box[1] + dy, w.box[2] + dx, w.box[3] + dy),
                    key,
                )
                for w in reread.words
            ]
    if not replaced:
        return page
    new_words: list[Word] = []
    done: set[str] = set()
    for word in words:
        if word.line_key not in replaced:
            new_words.append(word)
        elif word.line_key not in done:
            new_words.extend(replaced[word.line_key])
            done.add(word.line_key)
    return PageText.from_words(
        page.number, new_words, page.width, page.height, method=page.method, dpi=page.dpi
    )
