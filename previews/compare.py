"""What changed between two versions of a file: drawings, scans, artwork, contracts.

Pure functions over local paths, like ``previews.rendering``: no web framework, no
database. PDFs are drawn with pdfium, images read with Pillow, and both compared as
grey pictures with OpenCV:

1. every page of both files is drawn small, and pages are matched by how alike those
   thumbnails are (a page inserted, removed or moved keeps its partner);
2. each matched pair is drawn at ``dpi``; the old page is aligned onto the new one
   (phase correlation, then ECC on an affine motion, so a plot shifted or scaled
   slightly lines up again) and warped into the new page's frame;
3. ink that one page has and the other lacks within a small tolerance is a change;
   changed pixels are closed into areas, boxed and merged; the overlay shows the old
   page's own ink in red, the new page's in blue and what both share in grey;
4. a PDF's words (pdfium's text layer, with their boxes) are compared with difflib.

DXF drawings are compared by entity (``previews.compare_dxf``, whose names are here too).

Boxes are fractions of the page (``[x0, y0, x1, y1]``, 0..1, origin top left), like the
pins of comments: changed areas and words added on the new page, words removed on the
old one. ``compare_contained`` runs a compare in a child process with time and memory
caps, as ``render_contained`` does for previews.
"""

from __future__ import annotations

import difflib
import json
import math
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from previews.compare_dxf import (
    MAX_DXF_ENTITIES,
    Box,
    DxfChanges,
    DxfEntity,
    box_of,
    compare_dxf,
    fraction,
)
from previews.contained import (
    CorruptFile,
    EncryptedFile,
    PreviewError,
    TooLarge,
    UnsupportedFile,
    answer_of,
    death_error,
    error_for,
    last_json_line,
    run_contained,
    set_caps,
)
from previews.rendering import PreviewKind

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Gray = npt.NDArray[np.uint8]

__all__ = [
    "DEFAULT_COMPARE_LIMITS",
    "ChangedArea",
    "CompareLimits",
    "CompareResult",
    "DxfChanges",
    "DxfEntity",
    "PageChange",
    "Word",
    "compare",
    "compare_contained",
    "compare_dxf",
    "match_pages",
]


@dataclass(frozen=True)
class CompareLimits:
    """Caps and settings of one compare."""

    #: resolution pages are drawn and compared at
    dpi: float = 100.0
    #: resolution the drawn pages are compared at: ``dpi`` divided by a whole number, down
    #: to this (a 150 dpi drawing is compared at 75 dpi: a line moved by a third of a
    #: millimetre still shows, and there are four times fewer pixels to go through)
    analysis_dpi: float = 75.0
    #: pages of either file
    max_pages: int = 500
    #: pixels of one drawn page (A1 at 150 dpi is 17 million)
    max_page_pixels: int = 40_000_000
    #: pixels of a source image (header)
    max_source_pixels: int = 100_000_000
    #: entities of a DXF model space
    max_dxf_entities: int = MAX_DXF_ENTITIES
    #: longest side of the overlay and page images written out
    image_side: int = 1600
    #: words listed per page and side (the rest are counted)
    max_words: int = 2000
    #: wall-clock seconds for the whole compare
    timeout_seconds: float = 600.0
    #: address-space cap of the contained child process; 0 leaves it unlimited
    memory_bytes: int = 3 * 1024**3

    def __post_init__(self) -> None:
        if not 10 <= self.dpi <= 600:
            raise ValueError("dpi must be between 10 and 600")
        if not 10 <= self.analysis_dpi <= 600:
            raise ValueError("analysis_dpi must be between 10 and 600")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")


DEFAULT_COMPARE_LIMITS = CompareLimits()


@dataclass(frozen=True)
class ChangedArea:
    box: Box
    #: changed pixels inside the box
    pixels: int


@dataclass(frozen=True)
class Word:
    text: str
    box: Box


@dataclass
class PageChange:
    """One page of the new file with its partner in the old one (either may be None)."""

    from_page: int | None
    to_page: int | None
    similarity: float = 0.0
    changed_areas: list[ChangedArea] = field(default_factory=list)
    words_added: list[Word] = field(default_factory=list)
    words_removed: list[Word] = field(default_factory=list)
    #: words left out of the lists above (over ``max_words``)
    words_omitted: int = 0
    #: 2×3 affine map from the new page's fractions to the old page's (None: not paired)
    transform: list[list[float]] | None = None
    #: file names (in the output folder) of the overlay, the old page aligned, the new page
    images: dict[str, str] = field(default_factory=dict)
    #: size in pixels of those images
    image_size: tuple[int, int] | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.changed_areas
            or self.words_added
            or self.words_removed
            or self.from_page is None
            or self.to_page is None
        )


@dataclass
class CompareResult:
    kind: str
    from_pages: int
    to_pages: int
    pages: list[PageChange] = field(default_factory=list)
    dxf: DxfChanges | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        if self.dxf is not None:
            return bool(self.dxf.added or self.dxf.removed or self.dxf.changed)
        return any(page.changed for page in self.pages)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompareResult:
        pages = [
            PageChange(
                from_page=p["from_page"],
                to_page=p["to_page"],
                similarity=p.get("similarity", 0.0),
                changed_areas=[
                    ChangedArea(box_of(a["box"]), int(a["pixels"])) for a in p["changed_areas"]
                ],
                words_added=[Word(w["text"], box_of(w["box"])) for w in p["words_added"]],
                words_removed=[Word(w["text"], box_of(w["box"])) for w in p["words_removed"]],
                words_omitted=int(p.get("words_omitted", 0)),
                transform=p.get("transform"),
                images=dict(p.get("images") or {}),
                image_size=_size(p.get("image_size")),
            )
            for p in data.get("pages", [])
        ]
        return cls(
            kind=data["kind"],
            from_pages=int(data["from_pages"]),
            to_pages=int(data["to_pages"]),
            pages=pages,
            dxf=DxfChanges.from_dict(data["dxf"]) if data.get("dxf") is not None else None,
            seconds=float(data.get("seconds", 0.0)),
        )


def _size(values: Sequence[int] | None) -> tuple[int, int] | None:
    return (int(values[0]), int(values[1])) if values else None


# ------------------------------------------------------------------ sources


class _Source:
    """Pages of a PDF or the one page of an image, drawn grey on demand."""

    def __init__(self, path: Path, kind: PreviewKind, limits: CompareLimits) -> None:
        self.path = path
        self.kind = kind
        self.limits = limits
        self._pdf: Any = None
        self._image: Gray | None = None
        self._words: dict[int, list[Word]] = {}
        if kind == PreviewKind.pdf:
            import pypdfium2 as pdfium

            try:
                self._pdf = pdfium.PdfDocument(str(path))
            except pdfium.PdfiumError as error:
                if "password" in str(error).lower():
                    raise EncryptedFile("the PDF is protected with a password") from error
                raise CorruptFile(f"cannot read PDF: {error}") from error
            self.count = len(self._pdf)
        elif kind == PreviewKind.image:
            self._image = _read_image(path, limits)
            self.count = 1
        else:
            raise UnsupportedFile(f"cannot compare {kind} files page by page")
        if self.count > limits.max_pages:
            raise TooLarge(f"{self.count} pages, over the limit of {limits.max_pages}")
        if self.count == 0:
            raise CorruptFile("the file has no pages")

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()

    def draw(self, number: int, dpi: float, step: int = 1) -> Gray:
        """Page ``number`` (from 1) as a grey picture at ``dpi`` (images: their own pixels),
        made ``step`` times smaller."""
        import numpy as np

        if self._image is not None:
            if dpi >= self.limits.dpi:
                return _shrink(self._image, step)
            import cv2

            scale = dpi / self.limits.dpi
            height, width = self._image.shape
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            return np.asarray(cv2.resize(self._image, size, interpolation=cv2.INTER_AREA))
        import pypdfium2 as pdfium

        page = self._pdf[number - 1]
        try:
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise CorruptFile(f"page {number} has no size")
            scale = dpi / 72
            pixels = round(width * scale) * round(height * scale)
            if pixels > self.limits.max_page_pixels:
                raise TooLarge(
                    f"page {number} drawn at {dpi:.0f} dpi has {pixels} pixels, over the "
                    f"limit of {self.limits.max_page_pixels}"
                )
            bitmap = page.render(scale=scale, grayscale=True)
            view = np.asarray(bitmap.to_numpy(), dtype=np.uint8)
            view = view.reshape(view.shape[0], view.shape[1])
            # the bitmap's memory goes with it: keep a copy (or the smaller picture)
            return _shrink(view, step) if step > 1 else view.copy()
        except pdfium.PdfiumError as error:
            raise CorruptFile(f"cannot draw page {number}: {error}") from error
        finally:
            page.close()

    def words(self, number: int) -> list[Word]:
        """The words of a PDF page with their boxes (fractions of the page)."""
        if number not in self._words:
            self._words[number] = self._read_words(number)
        return self._words[number]

    def _read_words(self, number: int) -> list[Word]:
        if self._pdf is None:
            return []
        import pypdfium2.raw as pdfium_c

        page = self._pdf[number - 1]
        try:
            width, height = page.get_size()
            text = page.get_textpage()
            try:
                words: list[Word] = []
                letters: list[str] = []
                box = [math.inf, math.inf, -math.inf, -math.inf]
                for index in range(text.count_chars()):
                    char = chr(pdfium_c.FPDFText_GetUnicode(text.raw, index))
                    if char.isspace() or char == "\x00":
                        if letters:
                            words.append(Word("".join(letters), _page_box(box, width, height)))
                            letters, box = [], [math.inf, math.inf, -math.inf, -math.inf]
                        continue
                    left, bottom, right, top = text.get_charbox(index)
                    letters.append(char)
                    box = [
                        min(box[0], left),
                        min(box[1], bottom),
                        max(box[2], right),
                        max(box[3], top),
                    ]
                if letters:
                    words.append(Word("".join(letters), _page_box(box, width, height)))
                return words
            finally:
                text.close()
        finally:
            page.close()


def _page_box(box: list[float], width: float, height: float) -> Box:
    """A PDF box (points, origin bottom left) as fractions of the page from the top left."""
    left, bottom, right, top = box
    return (
        fraction(left / width),
        fraction(1 - top / height),
        fraction(right / width),
        fraction(1 - bottom / height),
    )


def _read_image(path: Path, limits: CompareLimits) -> Gray:
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                pixels = image.width * image.height
                if pixels > limits.max_source_pixels:
                    raise TooLarge(
                        f"image of {image.width}×{image.height} pixels is over the limit"
                    )
                upright = ImageOps.exif_transpose(image) or image
                grey = upright.convert("L")
                if grey.width * grey.height > limits.max_page_pixels:
                    grey.thumbnail((4096, 4096))
                return np.asarray(grey, dtype=np.uint8).copy()
        except Image.DecompressionBombError as error:
            raise TooLarge(str(error)) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise CorruptFile(f"cannot read image: {error}") from error


# ------------------------------------------------------------------ matching pages

#: side of the square thumbnails pages are matched by
_THUMB = 48
#: below this likeness two pages are not the same sheet
_SAME_PAGE = 0.5


def _thumbnail(picture: Gray) -> npt.NDArray[np.float32]:
    import cv2
    import numpy as np

    small = cv2.resize(picture, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA)
    ink = 255.0 - np.asarray(small, dtype=np.float32)
    ink = np.asarray(cv2.GaussianBlur(ink, (5, 5), 0), dtype=np.float32)
    ink -= float(ink.mean())
    norm = float(np.linalg.norm(ink))
    return ink / norm if norm > 1e-6 else np.zeros_like(ink)


def _likeness(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    import numpy as np

    if not a.any() and not b.any():
        return 1.0  # two blank pages
    return float(np.sum(a * b))


def _word_likeness(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def match_pages(
    old: Sequence[npt.NDArray[np.float32]],
    new: Sequence[npt.NDArray[np.float32]],
    old_words: Sequence[frozenset[str]] = (),
    new_words: Sequence[frozenset[str]] = (),
) -> list[tuple[int | None, int | None, float]]:
    """Pairs (old index, new index, likeness) in the new file's order, unmatched ones too.

    Pages are alike by their thumbnails and, when both have a text layer, by their words
    (a sheet's title and number tell sheets apart that look nearly the same small). The
    most alike pairs are taken first; among equals the one nearest its old place wins.
    """
    scores = [[_likeness(a, b) for b in new] for a in old]
    if old_words and new_words:
        for i, words_a in enumerate(old_words):
            for j, words_b in enumerate(new_words):
                if words_a and words_b:
                    scores[i][j] = (scores[i][j] + _word_likeness(words_a, words_b)) / 2
    candidates = sorted(
        (
            (round(scores[i][j], 3), -abs(j - i), i, j)
            for i in range(len(old))
            for j in range(len(new))
            if scores[i][j] >= _SAME_PAGE
        ),
        reverse=True,
    )
    pair_of_new: dict[int, tuple[int, float]] = {}
    used_old: set[int] = set()
    for score, _bias, i, j in candidates:
        if i in used_old or j in pair_of_new:
            continue
        used_old.add(i)
        pair_of_new[j] = (i, score)
    pairs: list[tuple[int | None, int | None, float]] = []
    for j in range(len(new)):
        partner = pair_of_new.get(j)
        pairs.append((partner[0], j, partner[1]) if partner else (None, j, 0.0))
    # a page dropped from the old file is listed after its old predecessor
    for k in range(len(old)):
        if k in used_old:
            continue
        after = next((n for n, pair in enumerate(pairs) if k > 0 and pair[0] == k - 1), -1)
        pairs.insert(after + 1, (k, None, 0.0))
    return pairs


# ------------------------------------------------------------------ aligning and diffing

#: longest side of the pictures the alignment is estimated on
_ALIGN_SIDE = 600
#: intensity difference that counts as a change
_THRESHOLD = 64
#: grey below this is ink (after a slight blur: thin lines too)
_INK = 224


def _align(old: Gray, new: Gray) -> npt.NDArray[np.float32]:
    """The 2×3 affine map from the new page's pixels to the old page's."""
    import cv2
    import numpy as np

    step = max(1, math.ceil(max(new.shape) / _ALIGN_SIDE))
    small_new = _shrink(new, step)
    small_old = _shrink(old, step)
    size = (small_new.shape[1], small_new.shape[0])
    old_size = (small_old.shape[1], small_old.shape[0])
    # same canvas (the top left stays put), as ink: white paper is zero
    canvas = np.zeros((size[1], size[0]), dtype=np.float32)
    h, w = min(size[1], old_size[1]), min(size[0], old_size[0])
    canvas[:h, :w] = 255.0 - small_old[:h, :w]
    ink_new = 255.0 - np.asarray(small_new, dtype=np.float32)
    ink_old = np.asarray(cv2.GaussianBlur(canvas, (0, 0), 1.5), dtype=np.float32)
    ink_new = np.asarray(cv2.GaussianBlur(ink_new, (0, 0), 1.5), dtype=np.float32)
    warp = np.eye(2, 3, dtype=np.float32)
    if old_size == size and _in_register(small_old, small_new):
        return warp  # the same plot (most pages of a revision): nothing to estimate
    if ink_new.any() and ink_old.any():
        (dx, dy), response = cv2.phaseCorrelate(ink_new, ink_old)
        if response > 0.05 and abs(dx) < size[0] / 4 and abs(dy) < size[1] / 4:
            warp[0, 2], warp[1, 2] = dx, dy
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 1e-4)
        try:
            _score, estimate = cv2.findTransformECC(
                ink_new, ink_old, warp.copy(), cv2.MOTION_AFFINE, criteria
            )
            found = np.asarray(estimate, dtype=np.float32)
            if _plausible(found, size):
                warp = np.asarray(found, dtype=np.float32)
        except cv2.error:
            pass  # no convergence: the phase correlation's shift stands
    warp[:, 2] *= step
    return warp


def _in_register(old: Gray, new: Gray) -> bool:
    """Whether two small pages already line up: nearly all the ink of each is ink on the
    other too (a plot shifted or scaled even by a fraction of a pixel here moves the edges of
    most of its strokes; a page changed in places keeps the rest in place)."""
    import cv2

    old_ink = cv2.threshold(old, _INK - 1, 255, cv2.THRESH_BINARY_INV)[1]
    new_ink = cv2.threshold(new, _INK - 1, 255, cv2.THRESH_BINARY_INV)[1]
    for ink, other in ((old_ink, new_ink), (new_ink, old_ink)):
        total = cv2.countNonZero(ink)
        if total == 0:
            return cv2.countNonZero(other) == 0
        astray = cv2.countNonZero(cv2.bitwise_and(ink, cv2.bitwise_not(other)))
        if astray > 0.01 * total:
            return False
    return True


def _plausible(warp: npt.NDArray[np.float32], size: tuple[int, int]) -> bool:
    """A slight shift, scale and turn, not a page folded onto another."""
    import numpy as np

    linear = warp[:, :2]
    if not np.all(np.isfinite(warp)):
        return False
    if abs(float(np.linalg.det(linear)) - 1) > 0.2 or float(np.abs(linear - np.eye(2)).max()) > 0.2:
        return False
    return abs(float(warp[0, 2])) < size[0] / 4 and abs(float(warp[1, 2])) < size[1] / 4


def _differences(old_aligned: Gray, new: Gray, tolerance: int) -> tuple[Gray, Gray]:
    """Ink only the old page has, ink only the new page has (255 where so).

    Both pages are blurred a little first, so a thin line drawn across one pixel on one
    page and two on the other weighs the same. Ink is then compared twice, each within
    ``tolerance`` pixels: where there is any (a line the other page lacks) and how dark it
    is (a fill or a tone that changed). Buffers are reused: a page at 150 dpi on A1 is
    17 MB a picture.
    """
    import cv2
    import numpy as np

    kernel = np.ones((2 * tolerance + 1, 2 * tolerance + 1), dtype=np.uint8)
    old_soft = cv2.blur(old_aligned, (3, 3))
    new_soft = cv2.blur(new, (3, 3))
    old_ink = cv2.threshold(old_soft, _INK - 1, 255, cv2.THRESH_BINARY_INV)[1]
    new_ink = cv2.threshold(new_soft, _INK - 1, 255, cv2.THRESH_BINARY_INV)[1]
    # dilate of ink = ink nearby, erode of grey = the darkest pixel nearby: ink moved by up
    # to ``tolerance`` is still found
    near = cv2.dilate(new_ink, kernel)
    cv2.bitwise_not(near, dst=near)
    removed = cv2.bitwise_and(old_ink, near)
    cv2.dilate(old_ink, kernel, dst=near)
    cv2.bitwise_not(near, dst=near)
    added = cv2.bitwise_and(new_ink, near)
    del old_ink, new_ink
    darker = cv2.add(old_soft, _THRESHOLD)
    cv2.erode(new_soft, kernel, dst=near)
    cv2.compare(darker, near, cv2.CMP_LT, dst=darker)
    cv2.bitwise_or(removed, darker, dst=removed)
    cv2.add(new_soft, _THRESHOLD, dst=darker)
    cv2.erode(old_soft, kernel, dst=near)
    cv2.compare(darker, near, cv2.CMP_LT, dst=darker)
    cv2.bitwise_or(added, darker, dst=added)
    return np.asarray(removed, dtype=np.uint8), np.asarray(added, dtype=np.uint8)


def _areas(mask: Gray, dpi: float, words: Sequence[Box] = ()) -> list[ChangedArea]:
    """Boxes round the changed pixels: nearby strokes closed into areas, boxes merged.

    ``words`` (fractions of the page) are boxes of words added or removed: changed even
    where their letters are too small to tell apart at this resolution.
    """
    import cv2
    import numpy as np

    height, width = mask.shape
    step = max(1, round(dpi / 50))  # about half a millimetre per cell
    cells = np.asarray(
        cv2.threshold(_shrink(mask, step), 0, 255, cv2.THRESH_BINARY)[1], dtype=np.uint8
    )
    # strokes of one change lie within about 3 mm of each other
    reach = max(3, round(3 / 25.4 * dpi / step))
    closed = cv2.morphologyEx(
        cells, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (reach, reach))
    )
    contours, _hierarchy = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[list[int]] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        boxes.append([x * step, y * step, min(width, (x + w) * step), min(height, (y + h) * step)])
    given = [
        [
            math.floor(x0 * width),
            math.floor(y0 * height),
            math.ceil(x1 * width),
            math.ceil(y1 * height),
        ]
        for x0, y0, x1, y1 in words
    ]
    gap = round(2 / 25.4 * dpi)
    boxes = _merge(boxes + given, gap)
    # a speck under about half a square millimetre is noise of the drawing, not a change
    least = max(4, round((dpi / 25.4) ** 2 * 0.5))
    found: list[ChangedArea] = []
    for x0, y0, x1, y1 in boxes:
        pixels = int(cv2.countNonZero(mask[y0:y1, x0:x1]))
        holds_word = any(x0 <= w[0] and y0 <= w[1] and w[2] <= x1 and w[3] <= y1 for w in given)
        if pixels >= least or holds_word:
            found.append(
                ChangedArea(
                    (
                        fraction(x0 / width),
                        fraction(y0 / height),
                        fraction(x1 / width),
                        fraction(y1 / height),
                    ),
                    pixels,
                )
            )
    found.sort(key=lambda a: (a.box[1], a.box[0]))
    return found


def _merge(boxes: list[list[int]], gap: int) -> list[list[int]]:
    """Boxes that overlap or lie within ``gap`` of each other become one, until none do."""
    merged = True
    while merged:
        merged = False
        out: list[list[int]] = []
        for box in boxes:
            for other in out:
                if (
                    box[0] <= other[2] + gap
                    and other[0] <= box[2] + gap
                    and box[1] <= other[3] + gap
                    and other[1] <= box[3] + gap
                ):
                    other[0], other[1] = min(other[0], box[0]), min(other[1], box[1])
                    other[2], other[3] = max(other[2], box[2]), max(other[3], box[3])
                    merged = True
                    break
            else:
                out.append(list(box))
        boxes = out
    return boxes


def _overlay(
    old_aligned: Gray, new: Gray, removed: Gray, added: Gray, step: int
) -> npt.NDArray[np.uint8]:
    """Old-only ink red, new-only ink blue, shared ink light grey (BGR), ``step`` times smaller."""
    import cv2
    import numpy as np

    both = _shrink(np.asarray(cv2.min(old_aligned, new), dtype=np.uint8), step)
    grey = cv2.addWeighted(both, 0.4, both, 0, 255 * 0.6)
    picture = cv2.merge([grey, grey, grey])
    picture[_shrink(removed, step) > 0] = (40, 40, 220)
    picture[_shrink(added, step) > 0] = (220, 90, 20)
    return np.asarray(picture, dtype=np.uint8)


def _shrink(picture: npt.NDArray[np.uint8], step: int) -> npt.NDArray[np.uint8]:
    """``picture`` made ``step`` times smaller by averaging (a whole factor: OpenCV's fast way).

    The last rows and columns that do not fill a cell are left out: the top left stays put.
    """
    import cv2
    import numpy as np

    if step <= 1:
        return picture
    height, width = picture.shape[:2]
    rows, columns = max(1, height // step), max(1, width // step)
    cropped = picture[: rows * step, : columns * step]
    # halving: bilinear samples fall mid-way in each 2×2 cell, so it averages the cell as
    # area averaging does, several times quicker
    method = cv2.INTER_LINEAR if step == 2 else cv2.INTER_AREA
    return np.asarray(cv2.resize(cropped, (columns, rows), interpolation=method), dtype=np.uint8)


def _fit(picture: npt.NDArray[np.uint8], side: int) -> npt.NDArray[np.uint8]:
    """``picture`` with its longest side at most ``side`` pixels."""
    return _shrink(picture, _step(picture, side))


def _step(picture: npt.NDArray[np.uint8], side: int) -> int:
    return max(1, math.ceil(int(max(picture.shape[:2])) / side))


def _write_image(path: Path, picture: npt.NDArray[np.uint8]) -> None:
    """JPEG at a high quality: a few times quicker to make than PNG at this size, and the
    pictures are views of pages (the files themselves stay the reference)."""
    import cv2

    ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise PreviewError("cannot encode the compare image")
    path.write_bytes(data.tobytes())


def _fraction_transform(warp: npt.NDArray[np.float32], old: Gray, new: Gray) -> list[list[float]]:
    """The pixel map as a map between page fractions (for carrying pins over)."""
    (nh, nw), (oh, ow) = new.shape, old.shape
    a, b, c = (float(v) for v in warp[0])
    d, e, f = (float(v) for v in warp[1])
    return [
        [round(a * nw / ow, 6), round(b * nh / ow, 6), round(c / ow, 6)],
        [round(d * nw / oh, 6), round(e * nh / oh, 6), round(f / oh, 6)],
    ]


def _carry(box: Box, transform: list[list[float]]) -> Box:
    """A box on the old page (fractions) where it lies on the new one (``transform``'s inverse)."""
    (a, b, c), (d, e, f) = transform
    det = a * e - b * d
    if abs(det) < 1e-9:
        return box
    corners = []
    for x, y in ((box[0], box[1]), (box[2], box[3])):
        u, v = x - c, y - f
        corners.append(((e * u - b * v) / det, (a * v - d * u) / det))
    (x0, y0), (x1, y1) = corners
    return (
        fraction(min(x0, x1)),
        fraction(min(y0, y1)),
        fraction(max(x0, x1)),
        fraction(max(y0, y1)),
    )


def _word_changes(
    old_words: list[Word], new_words: list[Word], cap: int
) -> tuple[list[Word], list[Word], int]:
    matcher = difflib.SequenceMatcher(
        None, [w.text for w in old_words], [w.text for w in new_words], autojunk=False
    )
    added: list[Word] = []
    removed: list[Word] = []
    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            removed.extend(old_words[i0:i1])
        if tag in ("insert", "replace"):
            added.extend(new_words[j0:j1])
    omitted = max(0, len(added) - cap) + max(0, len(removed) - cap)
    return added[:cap], removed[:cap], omitted


# ------------------------------------------------------------------ the compare


def compare(
    old: Path,
    old_kind: PreviewKind,
    new: Path,
    new_kind: PreviewKind,
    output: Path | None = None,
    limits: CompareLimits = DEFAULT_COMPARE_LIMITS,
) -> CompareResult:
    """Compare ``old`` with ``new`` in this process (``compare_contained`` for untrusted files).

    With ``output`` (a folder), each paired page's overlay, aligned old page and new page
    are written there as JPEG images named in ``PageChange.images``.
    """
    started = time.monotonic()
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    if old_kind == PreviewKind.dxf and new_kind == PreviewKind.dxf:
        return CompareResult(
            "dxf",
            1,
            1,
            dxf=compare_dxf(old, new, limits.max_dxf_entities),
            seconds=time.monotonic() - started,
        )
    raster = {PreviewKind.pdf, PreviewKind.image}
    if old_kind not in raster or new_kind not in raster:
        raise UnsupportedFile(f"cannot compare a {old_kind} file with a {new_kind} file")
    before = _Source(Path(old), old_kind, limits)
    try:
        after = _Source(Path(new), new_kind, limits)
        try:
            result = CompareResult(
                "pdf" if PreviewKind.pdf in (old_kind, new_kind) else "image",
                before.count,
                after.count,
            )
            result.pages = _compare_pages(before, after, output, limits)
        finally:
            after.close()
    finally:
        before.close()
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _pair_likeness(
    before: _Source, after: _Source, i: int, j: int, old: Gray, new: Gray
) -> tuple[float, bool]:
    """How alike two pages are, and whether they are plainly the same sheet.

    Drawings of one set look much alike when small; their words (sheet title and number,
    notes, dimensions) in the same order tell them apart, when both pages have a text layer.
    """
    picture = _likeness(_thumbnail(_fit(old, 256)), _thumbnail(_fit(new, 256)))
    old_words = [w.text for w in before.words(i + 1)]
    new_words = [w.text for w in after.words(j + 1)]
    if old_words and new_words:
        in_order = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).ratio()
        score = (picture + _word_likeness(frozenset(old_words), frozenset(new_words))) / 2
        return score, in_order >= _SURELY_SAME_WORDS and picture >= _SAME_PAGE
    return picture, picture >= _SURELY_SAME


#: a page taken as the same sheet without matching (same page count) must be this alike,
#: or have this share of its words in the same order
_SURELY_SAME = 0.9
_SURELY_SAME_WORDS = 0.85


def _compare_pages(
    before: _Source, after: _Source, output: Path | None, limits: CompareLimits
) -> list[PageChange]:
    """Pages paired in order when both files have as many and each pair is plainly the same
    sheet; otherwise paired by content first (small drawings of every page, and words)."""
    if before.count == after.count:
        in_order: list[tuple[int | None, int | None, float]] = [
            (n, n, 1.0) for n in range(after.count)
        ]
        changes: list[PageChange] = []
        for change in _compare_pairs(before, after, in_order, output, limits):
            if change is None:
                break  # a page is not its partner: match them all by content
            changes.append(change)
        else:
            return changes
    thumb_dpi = min(limits.dpi, 12.0)
    old_thumbs = [_thumbnail(before.draw(n + 1, thumb_dpi)) for n in range(before.count)]
    new_thumbs = [_thumbnail(after.draw(n + 1, thumb_dpi)) for n in range(after.count)]
    old_text = [frozenset(w.text for w in before.words(n + 1)) for n in range(before.count)]
    new_text = [frozenset(w.text for w in after.words(n + 1)) for n in range(after.count)]
    pairs = match_pages(old_thumbs, new_thumbs, old_text, new_text)
    return [c for c in _compare_pairs(before, after, pairs, output, limits, checked=True) if c]


def _compare_pairs(
    before: _Source,
    after: _Source,
    pairs: list[tuple[int | None, int | None, float]],
    output: Path | None,
    limits: CompareLimits,
    checked: bool = False,
) -> Iterator[PageChange | None]:
    """Each pair compared; unless ``checked``, None (and stop) for a pair not plainly alike."""
    import cv2
    import numpy as np

    # pages are drawn at ``dpi`` and looked at in whole steps down to ``analysis_dpi``
    step = max(1, math.floor(limits.dpi / limits.analysis_dpi))
    seen_dpi = limits.dpi / step
    tolerance = max(1, round(seen_dpi / 50))
    for i, j, score in pairs:
        change = PageChange(
            from_page=None if i is None else i + 1,
            to_page=None if j is None else j + 1,
            similarity=round(score, 4),
        )
        if i is None or j is None:
            words = before.words(i + 1) if i is not None else after.words(j + 1)  # type: ignore[operator]
            if i is None:
                change.words_added = words[: limits.max_words]
            else:
                change.words_removed = words[: limits.max_words]
            change.words_omitted = max(0, len(words) - limits.max_words)
            if output is not None:
                number = (j if j is not None else i) + 1  # type: ignore[operator]
                side = "to" if j is not None else "from"
                source = after if j is not None else before
                picture = _fit(source.draw(number, limits.dpi, step), limits.image_side)
                name = f"{side}-{number}.jpg"
                _write_image(output / name, picture)
                change.images = {side: name}
                change.image_size = (int(picture.shape[1]), int(picture.shape[0]))
            yield change
            continue
        old_picture = before.draw(i + 1, limits.dpi, step)
        new_picture = after.draw(j + 1, limits.dpi, step)
        if not checked and len(pairs) > 1:
            score, sure = _pair_likeness(before, after, i, j, old_picture, new_picture)
            if not sure:
                yield None
                return
            change.similarity = round(score, 4)
        warp = _align(old_picture, new_picture)
        # the same plot: no warp (a tenth of a pixel at the far corner is none)
        drift = np.abs(warp - np.eye(2, 3, dtype=np.float32))
        drift[:, :2] *= max(new_picture.shape)
        if old_picture.shape == new_picture.shape and float(drift.max()) < 0.1:
            aligned: Gray = old_picture
        else:
            aligned = np.asarray(
                cv2.warpAffine(
                    old_picture,
                    warp,
                    (new_picture.shape[1], new_picture.shape[0]),
                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                    borderMode=cv2.BORDER_CONSTANT,
                    borderValue=255,
                ),
                dtype=np.uint8,
            )
        change.transform = _fraction_transform(warp, old_picture, new_picture)
        del old_picture
        removed, added = _differences(aligned, new_picture, tolerance)
        change.words_added, change.words_removed, change.words_omitted = _word_changes(
            before.words(i + 1), after.words(j + 1), limits.max_words
        )
        changed = np.asarray(cv2.bitwise_or(removed, added), dtype=np.uint8)
        word_boxes = [w.box for w in change.words_added] + [
            _carry(w.box, change.transform) for w in change.words_removed
        ]
        change.changed_areas = _areas(changed, seen_dpi, word_boxes)
        if output is not None:
            overlay = _overlay(
                aligned, new_picture, removed, added, _step(new_picture, limits.image_side)
            )
            names = {
                "overlay": f"overlay-{j + 1}.jpg",
                "from": f"from-{i + 1}-on-{j + 1}.jpg",
                "to": f"to-{j + 1}.jpg",
            }
            _write_image(output / names["overlay"], overlay)
            _write_image(output / names["from"], _fit(aligned, limits.image_side))
            _write_image(output / names["to"], _fit(new_picture, limits.image_side))
            change.images = names
            change.image_size = (int(overlay.shape[1]), int(overlay.shape[0]))
        yield change


# ------------------------------------------------------------------ contained compares


def compare_contained(
    old: Path,
    old_kind: PreviewKind,
    new: Path,
    new_kind: PreviewKind,
    output: Path,
    limits: CompareLimits = DEFAULT_COMPARE_LIMITS,
) -> CompareResult:
    """``compare`` in a child process with ``limits``' time and memory caps.

    The images are written to ``output``; a file that hangs or crashes a decoder ends as
    a ``PreviewError`` instead of taking the caller down.
    """
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="portal-compare-") as folder:
        manifest = Path(folder) / "result.json"
        job = {
            "old": str(Path(old).resolve()),
            "old_kind": old_kind.value,
            "new": str(Path(new).resolve()),
            "new_kind": new_kind.value,
            "output": str(output.resolve()),
            "manifest": str(manifest),
            "limits": asdict(limits),
        }
        # -m with the package's parent as the working folder: the child imports this
        # package (and what drawing needs), nothing of the caller's
        root = Path(__file__).resolve().parent.parent
        command = [sys.executable, "-m", "previews.compare", json.dumps(job)]
        code, out, err = run_contained(
            command, limits.timeout_seconds, "compare", grace=10, cwd=root
        )
        answer = last_json_line(out) if code >= 0 else None
        if answer is None:
            raise death_error(code, "compare", err.decode("utf-8", "replace").strip()[-300:])
        if "error" in answer:
            raise error_for(answer["error"])(answer.get("detail", ""))
        data: dict[str, Any] = json.loads(manifest.read_text("utf-8"))
        return CompareResult.from_dict(data)


def _child(job: dict[str, Any]) -> dict[str, Any]:
    """The child side of ``compare_contained``: caps, compare, write, answer one JSON line."""
    limits = CompareLimits(**job["limits"])
    set_caps(limits.memory_bytes, int(limits.timeout_seconds) + 1, "compare")

    def work() -> dict[str, Any]:
        import cv2

        cv2.setNumThreads(1)  # one compare, one core: workers scale by process
        result = compare(
            Path(job["old"]),
            PreviewKind(job["old_kind"]),
            Path(job["new"]),
            PreviewKind(job["new_kind"]),
            Path(job["output"]),
            limits,
        )
        Path(job["manifest"]).write_text(json.dumps(result.to_dict()), "utf-8")
        return {"ok": True, "pages": len(result.pages)}

    return answer_of(work, limits.timeout_seconds, "comparing")


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))), flush=True)
