"""Geometry shared by the extractors and forms: which boxes sit on the same text line."""

from __future__ import annotations

from ocr.results import Box

#: Scans come in up to about a degree askew (tan 1° ≈ 0.0175): a line may drift this
#: many pixels per pixel of horizontal distance.
SKEW_ALLOWANCE = 0.02


def height(box: Box) -> int:
    """Height of a box, at least 1."""
    return max(1, box[3] - box[1])


def line_drift(anchor: Box, box: Box) -> float | None:
    """How far (0–1 of the allowance) ``box`` is from ``anchor``'s line, or None if off it."""
    anchor_centre = (anchor[1] + anchor[3]) / 2
    centre = (box[1] + box[3]) / 2
    distance = max(0.0, box[0] - anchor[2], anchor[0] - box[2])
    tolerance = height(anchor) * 0.85 + SKEW_ALLOWANCE * distance
    offset = abs(centre - anchor_centre)
    return offset / tolerance if offset <= tolerance else None


def same_line(anchor: Box, box: Box) -> bool:
    """Tell whether ``box`` lies on the text line of ``anchor``, allowing for skew."""
    return line_drift(anchor, box) is not None
