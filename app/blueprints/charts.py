"""Small charts drawn on the server as inline SVG: no script, no CDN, readable on a phone.

Each chart carries a title and a description for screen readers, and the figures it
draws are in a table next to it on the page that uses it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 28


def _frame(title: str, description: str, body: str) -> Markup:
    ident = "chart-" + hashlib.sha256(title.encode()).hexdigest()[:8]
    # every text drawn (labels, title, description) went through escape() above
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(description)}</desc>{body}</svg>'
    )


def _axes(peak: float, unit: str) -> str:
    parts = []
    for fraction in (0, 0.5, 1):
        y = TOP + (HEIGHT - TOP - BOTTOM) * (1 - fraction)
        value = peak * fraction
        label = f"{value:.0f}{unit}" if value >= 10 or unit else f"{value:g}"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid-line"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(label)}</text>"
        )
    return "".join(parts)


def line_chart(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    description: str,
    peak: float | None = None,
    unit: str = "",
) -> Markup:
    """One line over labelled points (labels shown at the ends and the middle)."""
    if not points:
        return Markup("")
    top = max(peak or 0, max(v for _label, v in points), 1)
    span = max(len(points) - 1, 1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(index: int, value: float) -> tuple[float, float]:
        return LEFT + inner_w * index / span, TOP + inner_h * (1 - value / top)

    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}"
        for i, (x, y) in enumerate(xy(i, v) for i, (_label, v) in enumerate(points))
    )
    labels = []
    for index in sorted({0, len(points) // 2, len(points) - 1}):
        x, _y = xy(index, 0)
        anchor = "start" if index == 0 else "end" if index == len(points) - 1 else "middle"
        labels.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" class="axis">'
            f"{escape(points[index][0])}</text>"
        )
    last_x, last_y = xy(len(points) - 1, points[-1][1])
    body = (
        _axes(top, unit)
        + f'<path d="{path}" class="series" fill="none"/>'
        + f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="4" class="series-dot"/>'
        + "".join(labels)
    )
    return _frame(title, description, body)


def bar_chart(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    description: str,
    peak: float | None = None,
    unit: str = "",
) -> Markup:
    """Vertical bars, one per label (None: no data that month, drawn as a gap)."""
    if not bars:
        return Markup("")
    values = [v for _label, v in bars if v is not None]
    top = max(peak or 0, max(values, default=0), 1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / len(bars)
    parts = [_axes(top, unit)]
    for index, (label, value) in enumerate(bars):
        x = LEFT + slot * index + slot * 0.15
        if value is not None:
            height = inner_h * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + inner_h - height:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{height:.1f}" class="series-bar"><title>{escape(label)}: '
                f"{value:g}{escape(unit)}</title></rect>"
            )
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
            f'class="axis">{escape(label)}</text>'
        )
    return _frame(title, description, "".join(parts))
