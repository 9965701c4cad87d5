"""A second reading of lines where an identifier should be but none passes its check."""

from __future__ import annotations

import re
from dataclasses import replace

from PIL import Image

from ocr.engine import OcrEngine, TesseractEngine
from ocr.extractors import CIF_ENTITY_LETTERS, find_identifiers
from ocr.results import PageText, Word, union_box
from ocr.settings import DEFAULT_LIMITS, OcrLimits

__all__ = ["doubtful_lines", "reread_check_letters", "reread_doubtful_lines"]

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


#: The nearest label before a code: a person's tax ID (NIF, DNI, NIE) or a CIF.
_TAX_LABEL = re.compile(r"\b(?:(c)\.?i\.?f|n\.?i\.?[fe]|d\.?n\.?i)\b", re.I)
#: A DNI or NIE whose check letter came out as a digit: nine characters, the last a digit.
_DIGIT_FOR_LETTER = re.compile(r"[XYZxyz\d]\d{7}\d")
#: What one glyph may be read as on its own: any digit or capital letter.
_GLYPH_WHITELIST = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

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


#: Widths, in glyphs, of the crops a glyph is read from. Read alone, a glyph comes out
#: differently as the crop's edge moves across the stroke of the digit next to it ("T",
#: "E", "1" for one T), so it is read from each and the readings vote. Crops much wider
#: than the glyph bring back the digits around it, which pull the reading to a digit.
_GLYPH_CROPS = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.6)
#: The fewest crops that must read the winning character.
_GLYPH_QUORUM = 3
#: A CIF whose entity letter came out as a digit ("C77976462" read "077976462"), maybe
#: split in two words by a stray space.
_DIGIT_FOR_ENTITY = re.compile(r"\d{8}[0-9A-J]")


def _read_glyph(
    image: Image.Image,
    word: Word,
    engine: OcrEngine,
    page: PageText,
    limits: OcrLimits,
    *,
    last: bool,
) -> tuple[str, float] | None:
    """The last (or first) glyph of ``word`` read alone, and the confidence of that reading.

    Each crop reads one or two characters: the glyph, maybe after (or before) the edge of
    the digit next to it ("1S", "IS", "5S"; "C7"). The glyph is the character most crops
    read, when at least ``_GLYPH_QUORUM`` of them do and no other is read as often; else
    None. So a printed digit read as a letter by a crop or two stays a digit.
    """
    x0, y0, x1, y1 = word.box
    glyph_width = (x1 - x0) / len(word.text)
    pad = max(4, (y1 - y0) // 4)
    votes: dict[str, list[float]] = {}
    for glyphs in _GLYPH_CROPS:
        if last:
            left, right = int(x1 - glyphs * glyph_width) - 2, x1 + pad
        else:
            left, right = x0 - pad, int(x0 + glyphs * glyph_width) + 2
        crop_box = (
            max(0, left),
            max(0, y0 - pad),
            min(image.width, right),
            min(image.height, y1 + pad),
        )
        glyph = engine.recognize(
            image.crop(crop_box),
            page_number=page.number,
            timeout_seconds=limits.timeout_seconds,
            dpi=page.dpi,
        )
        reading = "".join(glyph.text.split())
        if 1 <= len(reading) <= 2:
            votes.setdefault(reading[-1] if last else reading[0], []).append(glyph.confidence)
    ranked = sorted(votes.items(), key=lambda vote: -len(vote[1]))
    if not ranked or len(ranked[0][1]) < _GLYPH_QUORUM:
        return None
    if len(ranked) > 1 and len(ranked[1][1]) == len(ranked[0][1]):
        return None
    char, confidences = ranked[0]
    return char, min(confidences)


def _glyph_reread(line: list[Word], position: int) -> str | None:
    """Which glyph of ``line[position]`` to read again: "last" for the check letter of a NIF
    or NIE read as a digit, "first" for the entity letter of a CIF read as a digit."""
    word = line[position]
    before = " ".join(w.text for w in line[:position])
    labels = list(_TAX_LABEL.finditer(before))
    if not labels:
        return None
    if labels[-1].group(1) is None:
        return "last" if _DIGIT_FOR_LETTER.fullmatch(word.text) else None
    code = "".join(w.text for w in line[position : position + 3])
    return "first" if _DIGIT_FOR_ENTITY.match(code) else None


def reread_check_letters(
    page: PageText,
    image: Image.Image,
    engine: OcrEngine,
    *,
    limits: OcrLimits = DEFAULT_LIMITS,
) -> PageText:
    """Read alone the glyph of an identifier's letter that came out as a digit.

    Inside a run of digits tesseract leans towards digits and reads a printed Q as 0: the
    check letter at the end of a NIF or NIE, or the entity letter at the start of a CIF
    (C, D, G, Q and O all come out as 0, so the extractor cannot tell which). The glyph is
    read again by itself from crops of several widths, free to be any digit or capital
    letter, and what most crops read is kept only when it is a letter and the identifier
    then passes its check. A letter is never chosen to pass the check: when the glyph
    still reads as a digit, or the crops disagree, nothing changes, and a digit after a NIF
    label is not made a CIF's letter, nor the other way round.
    """
    if not isinstance(engine, TesseractEngine):
        return page
    glyph_engine = replace(
        engine, psm=10, extra_config=f"-c tessedit_char_whitelist={_GLYPH_WHITELIST}"
    )
    lines = _lines(page)
    words = list(page.words)
    changed = False
    for key in doubtful_lines(page):
        line = [words[i] for i in lines[key]]
        for position, index in enumerate(lines[key]):
            word = words[index]
            which = _glyph_reread(line, position)
            if which is None:
                continue
            read = _read_glyph(image, word, glyph_engine, page, limits, last=which == "last")
            if read is None:
                continue
            glyph, glyph_confidence = read
            if which == "last":
                if not glyph.isalpha():
                    continue
                text = word.text[:-1] + glyph
            else:
                if glyph not in CIF_ENTITY_LETTERS:
                    continue
                text = glyph + word.text[1:]
            line_text = " ".join(w.text for w in line)
            new_line = " ".join(text if w is word else w.text for w in line)
            if _identifier_count(new_line) <= _identifier_count(line_text):
                continue
            confidence = min(word.confidence, glyph_confidence)
            words[index] = Word(text, confidence, word.box, word.line_key)
            line[position] = words[index]
            changed = True
    if not changed:
        return page
    return PageText.from_words(
        page.number, words, page.width, page.height, method=page.method, dpi=page.dpi
    )
