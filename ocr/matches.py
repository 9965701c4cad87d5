"""What every extractor returns (``Match``) and the text helpers they share.

An extractor takes plain text or a ``PageText``; a page is laid out as text first
(``layout_text``) so that a match's span can be traced back to the words, and their
boxes, it was read from.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Generic, TypeVar

from ocr.results import Box, PageText, Word, layout_text, union_box

__all__ = ["Match", "PreparedText", "TextSource", "fold", "line_before", "match_at", "prepare"]

T = TypeVar("T")
TextSource = str | PageText


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """One value found in a text, with where it came from."""

    kind: str
    value: T
    source_text: str
    #: ``(start, end)`` in the text searched (for a page, ``layout_text(page.words)``).
    span: tuple[int, int]
    #: Indices into ``PageText.words`` of the words the value was read from.
    word_indices: tuple[int, ...] = ()
    #: Number of characters changed to fix OCR misreads.
    corrections: int = 0
    #: Union of the words' boxes, when the text was a page.
    box: Box | None = None
    #: Other values the same text could be, equally valid (a DNI "2…" may be a NIE "Z…").
    alternatives: tuple[T, ...] = ()


@dataclass(frozen=True, slots=True)
class PreparedText:
    """A text to search, with the words (and their spans in it) when it came from a page."""

    text: str
    words: tuple[Word, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()

    def locate(self, start: int, end: int) -> tuple[tuple[int, ...], Box | None]:
        """The indices and united box of the words that ``[start, end)`` touches."""
        indices = tuple(i for i, (a, b) in enumerate(self.spans) if a < end and b > start)
        if not indices:
            return (), None
        return indices, union_box(self.words[i].box for i in indices)


def prepare(source: TextSource) -> PreparedText:
    """Lay a page out as text (or take the text as it is) for the extractors."""
    if isinstance(source, str):
        return PreparedText(source)
    text, spans = layout_text(source.words)
    return PreparedText(text, source.words, spans)


def match_at(
    prepared: PreparedText, kind: str, value: T, start: int, end: int, corrections: int = 0
) -> Match[T]:
    """A match of ``value`` read from ``prepared.text[start:end]``, with its words and box."""
    indices, box = prepared.locate(start, end)
    return Match(kind, value, prepared.text[start:end], (start, end), indices, corrections, box)


def fold(text: str) -> str:
    """Lower-case and strip accents while keeping one character per character."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0].lower()
        out.append(base[0] if base else char)
    return "".join(out)


def line_before(text: str, start: int, width: int = 24) -> str:
    """Up to ``width`` characters before ``start`` on its line: where a label would be."""
    line_start = text.rfind("\n", 0, start) + 1
    return text[max(line_start, start - width) : start]
