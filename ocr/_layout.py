"""Geometry shared by the extractors and forms: page skew and which boxes share a line."""

from __future__ import annotations

import statistics

from ocr.results import Box, PageText

#: Beyond the page's measured skew, a line may still wander this many pixels per pixel.
RESIDUAL_SKEW = 0.006
#: Scans are taken to be at most this askew (about 3°).
MAX_SKEW = 0.05


def height(box: Box) -> int:
    """Height of a box, at least 1."""
    return max(1, box[3] - box[1])


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def page_skew(page: PageText) -> float:
    """Estimate how askew the page is (dy per dx) from the slope of its longer text lines."""
    lines: dict[str, list[Box]] = {}
    for word in page.words:
        lines.setdefault(word.line_key, []).append(word.box)
    slopes = []
    for boxes in lines.values():
        if len(boxes) < 2:
            continue
        (x0, y0), (x1, y1) = _centre(boxes[0]), _centre(boxes[-1])
        if x1 - x0 > 8 * height(boxes[0]):
            slopes.append((y1 - y0) / (x1 - x0))
    if not slopes:
        return 0.0
    return max(-MAX_SKEW, min(MAX_SKEW, statistics.median(slopes)))


def line_drift(anchor: Box, box: Box, skew: float = 0.0) -> float | None:
    """How far (0–1 of the allowance) ``box`` is from ``anchor``'s line, or None if off it."""
    anchor_x, anchor_y = _centre(anchor)
    x, y = _centre(box)
    distance = max(0.0, box[0] - anchor[2], anchor[0] - box[2])
    expected = anchor_y + skew * (x - anchor_x)
    tolerance = height(anchor) * 0.6 + RESIDUAL_SKEW * distance
    offset = abs(y - expected)
    return offset / tolerance if offset <= tolerance else None


def same_line(anchor: Box, box: Box, skew: float = 0.0) -> bool:
    """Tell whether ``box`` lies on the text line of ``anchor`` on a page askew by ``skew``."""
    return line_drift(anchor, box, skew) is not None
