"""Labels on a page ("Total devengado", "C.I.F.") and the values written next to or below them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ocr._layout import height as box_height
from ocr._layout import page_skew, same_line
from ocr.matches import Match
from ocr.results import Box, PageText, layout_text, union_box

__all__ = ["find_label_occurrences", "find_labelled_values", "normalise_label"]


def normalise_label(text: str) -> str:
    """Fold a word for label comparison: lower case, no accents, no dots or colons."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    token = re.sub(r"[.:;,()\[\]]", "", folded)
    # Specks at a word's edges read as dashes or quotes ("-Proveedor:").
    token = token.strip("-_'\"`´‘’“”")
    # A capital I at the start of a word is often read as "¡" or "|" ("¡VA" for IVA).
    token = re.sub(r"^[¡|]", "i", token)
    # A small l after a letter is often read as "!" or "|" ("Tota!" for Total).
    token = re.sub(r"(?<=[a-z])[!|]", "l", token)
    # "Nº" is printed many ways and read by tesseract as "N2", "N°" or "No".
    return "no" if token in _NUMBER_SIGNS else token


_NUMBER_SIGNS = frozenset({"no", "n°", "n2", "nro", "num", "numero"})


def _label_tokens(label: str) -> tuple[str, ...]:
    return tuple(t for t in (normalise_label(w) for w in label.split()) if t)


def _word_forms(text: str) -> list[tuple[str, ...]]:
    """Ways a word can stand in a label: whole ("C.I.F." → cif) or split ("TOTAL.A" → total a)."""
    joined = normalise_label(text)
    forms: list[tuple[str, ...]] = [(joined,)] if joined else []
    parts = tuple(p for p in (normalise_label(p) for p in re.split(r"[.:;,]+", text)) if p)
    if len(parts) > 1:
        forms.append(parts)
    return forms


def _phrase_end(forms: Sequence[list[tuple[str, ...]]], start: int, phrase: tuple[str, ...]) -> int:
    """Index after the words from ``start`` that spell ``phrase``, or -1."""
    if not phrase:
        return start
    if start >= len(forms):
        return -1
    for form in forms[start]:
        if phrase[: len(form)] == form:
            end = _phrase_end(forms, start + 1, phrase[len(form) :])
            if end >= 0:
                return end
    return -1


def find_label_occurrences(
    page: PageText, labels: Sequence[str]
) -> list[tuple[str, tuple[int, ...]]]:
    """Find each label (a phrase) in the page's lines: ``(label, word indices)``, longest first."""
    lines: dict[str, list[int]] = {}
    for index, word in enumerate(page.words):
        lines.setdefault(word.line_key, []).append(index)
    line_forms = {
        key: [_word_forms(page.words[i].text) for i in indices] for key, indices in lines.items()
    }
    wanted = sorted(((label, _label_tokens(label)) for label in labels), key=lambda x: -len(x[1]))
    taken: set[int] = set()
    found: list[tuple[str, tuple[int, ...]]] = []
    for label, phrase in wanted:
        if not phrase:
            continue
        for key, indices in lines.items():
            for offset in range(len(indices)):
                end = _phrase_end(line_forms[key], offset, phrase)
                window = indices[offset:end]
                if end < 0 or any(i in taken for i in window):
                    continue
                found.append((label, tuple(window)))
                taken.update(window)
    return found


def find_labelled_values(
    page: PageText, labels: Sequence[str], *, stop_labels: Sequence[str] = ()
) -> list[Match[str]]:
    """Find the value written after each label: on the same line to its right, or just below.

    The value runs over neighbouring words until a wide gap, a word ending in a colon
    or one of ``stop_labels`` (other labels that may share the line).
    """
    occurrences = find_label_occurrences(page, list(labels) + list(stop_labels))
    label_set = {normalise_label(label) for label in labels}
    blocked = {i for _, indices in occurrences for i in indices}
    text, spans = layout_text(page.words)
    skew = page_skew(page)
    results: list[Match[str]] = []
    for label, indices in occurrences:
        if normalise_label(label) not in label_set:
            continue
        anchor = union_box(page.words[i].box for i in indices)
        value = _value_right(page, anchor, blocked, skew) or _value_below(
            page, anchor, blocked, skew
        )
        if not value:
            continue
        start = min(spans[i][0] for i in value)
        end = max(spans[i][1] for i in value)
        words_text = " ".join(page.words[i].text for i in value)
        box = union_box(page.words[i].box for i in value)
        results.append(
            Match("label_value", words_text, text[start:end], (start, end), value, 0, box)
        )
    return results


def _run_of_words(
    page: PageText, ordered: list[int], blocked: set[int], height: int
) -> tuple[int, ...]:
    """Take words left to right until a gap wider than about three letters or a label."""
    run: list[int] = []
    for index in ordered:
        word = page.words[index]
        if index in blocked:
            break
        if run and word.box[0] - page.words[run[-1]].box[2] > height * 1.6:
            break
        run.append(index)
        if word.text.endswith(":"):
            run.pop()
            break
    return tuple(run)


def _value_right(page: PageText, anchor: Box, blocked: set[int], skew: float) -> tuple[int, ...]:
    height = box_height(anchor)
    ordered = sorted(
        (
            i
            for i, w in enumerate(page.words)
            if w.box[0] >= anchor[2] - height * 0.3 and same_line(anchor, w.box, skew)
        ),
        key=lambda i: page.words[i].box[0],
    )
    if not ordered or page.words[ordered[0]].box[0] - anchor[2] > height * 6:
        return ()
    return _run_of_words(page, ordered, blocked, height)


def _value_below(page: PageText, anchor: Box, blocked: set[int], skew: float) -> tuple[int, ...]:
    height = box_height(anchor)
    below = [
        i
        for i, w in enumerate(page.words)
        if w.box[1] >= anchor[1] + height * 0.6
        and w.box[1] - anchor[3] <= height * 2.5
        and w.box[2] >= anchor[0] - height
        and w.box[0] <= anchor[2] + height
    ]
    if not below:
        return ()
    first = min(below, key=lambda i: (page.words[i].box[3], page.words[i].box[0]))
    line_box = page.words[first].box
    ordered = sorted(
        (i for i, w in enumerate(page.words) if same_line(line_box, w.box, skew)),
        key=lambda i: page.words[i].box[0],
    )
    start = min(ordered, key=lambda i: abs(page.words[i].box[0] - anchor[0]))
    return _run_of_words(page, ordered[ordered.index(start) :], blocked, box_height(line_box))
