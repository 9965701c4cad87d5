"""Result dataclasses of the OCR pipeline, with ``to_dict``/``from_dict`` for JSON storage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Box",
    "DocumentText",
    "PageMethod",
    "PageText",
    "SourceInfo",
    "SourceKind",
    "Word",
    "layout_text",
    "union_box",
]

#: ``(x0, y0, x1, y1)`` in page pixels, origin at the top left.
Box = tuple[int, int, int, int]
PageMethod = Literal["text_layer", "ocr"]
SourceKind = Literal["pdf", "image"]


def union_box(boxes: Iterable[Box]) -> Box:
    """Return the smallest box holding all ``boxes``."""
    items = list(boxes)
    if not items:
        return (0, 0, 0, 0)
    return (
        min(b[0] for b in items),
        min(b[1] for b in items),
        max(b[2] for b in items),
        max(b[3] for b in items),
    )


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its confidence (0–100), box and line."""

    text: str
    confidence: float
    box: Box
    #: Words sharing a key are on the same text line, in reading order.
    line_key: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "text": self.text,
            "confidence": self.confidence,
            "box": list(self.box),
            "line_key": self.line_key,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Word:
        """Build a word from ``to_dict`` output."""
        x0, y0, x1, y1 = (int(v) for v in data["box"])
        return cls(
            text=str(data["text"]),
            confidence=float(data["confidence"]),
            box=(x0, y0, x1, y1),
            line_key=str(data["line_key"]),
        )


def layout_text(words: Sequence[Word]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Join words into text (spaces within a line, newlines between) and give each word's span."""
    order: dict[str, list[int]] = {}
    for index, word in enumerate(words):
        order.setdefault(word.line_key, []).append(index)
    parts: list[str] = []
    spans: list[tuple[int, int]] = [(0, 0)] * len(words)
    position = 0
    for line_number, indices in enumerate(order.values()):
        if line_number:
            parts.append("\n")
            position += 1
        for rank, index in enumerate(indices):
            if rank:
                parts.append(" ")
                position += 1
            text = words[index].text
            spans[index] = (position, position + len(text))
            parts.append(text)
            position += len(text)
    return "".join(parts), tuple(spans)


@dataclass(frozen=True, slots=True)
class PageText:
    """The text of one page: words with boxes in pixels of a ``width`` × ``height`` page image."""

    number: int
    text: str
    confidence: float
    words: tuple[Word, ...]
    width: int
    height: int
    method: PageMethod = "ocr"
    #: Resolution the boxes refer to (for PDFs, points × dpi / 72); 0 when unknown.
    dpi: int = 0

    @classmethod
    def from_words(
        cls,
        number: int,
        words: Sequence[Word],
        width: int,
        height: int,
        *,
        method: PageMethod = "ocr",
        dpi: int = 0,
    ) -> PageText:
        """Build a page whose text and mean confidence come from its words."""
        text, _ = layout_text(words)
        confidence = sum(w.confidence for w in words) / len(words) if words else 0.0
        return cls(
            number=number,
            text=text,
            confidence=round(confidence, 2),
            words=tuple(words),
            width=width,
            height=height,
            method=method,
            dpi=dpi,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "number": self.number,
            "text": self.text,
            "confidence": self.confidence,
            "words": [w.to_dict() for w in self.words],
            "width": self.width,
            "height": self.height,
            "method": self.method,
            "dpi": self.dpi,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PageText:
        """Build a page from ``to_dict`` output."""
        method = data.get("method", "ocr")
        if method not in ("ocr", "text_layer"):
            raise ValueError(f"unknown page method {method!r}")
        return cls(
            number=int(data["number"]),
            text=str(data["text"]),
            confidence=float(data["confidence"]),
            words=tuple(Word.from_dict(w) for w in data["words"]),
            width=int(data["width"]),
            height=int(data["height"]),
            method=method,
            dpi=int(data.get("dpi", 0)),
        )


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a file is: PDF or image, its media type and number of pages."""

    kind: SourceKind
    media_type: str
    page_count: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {"kind": self.kind, "media_type": self.media_type, "page_count": self.page_count}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceInfo:
        """Build from ``to_dict`` output."""
        kind = data["kind"]
        if kind not in ("pdf", "image"):
            raise ValueError(f"unknown source kind {kind!r}")
        return cls(
            kind=kind, media_type=str(data["media_type"]), page_count=int(data["page_count"])
        )


@dataclass(frozen=True, slots=True)
class DocumentText:
    """Every page of a document."""

    source: SourceInfo
    pages: tuple[PageText, ...]

    @property
    def text(self) -> str:
        """All pages' text separated by form feeds, for full-text indexing."""
        return "\f".join(page.text for page in self.pages)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {"source": self.source.to_dict(), "pages": [p.to_dict() for p in self.pages]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DocumentText:
        """Build from ``to_dict`` output."""
        return cls(
            source=SourceInfo.from_dict(data["source"]),
            pages=tuple(PageText.from_dict(p) for p in data["pages"]),
        )
