"""Drawings and contracts with known changes, for the compare tests and bench/compare.py.

``plan`` draws one floor-plan sheet (frame, title block, walls, doors, dimensions) with
fpdf2; the named ``changes`` move a wall, add a dimension or remove a door, and the
``KNOWN`` boxes (millimetres on the sheet, origin top left) say where each change is.
``shift_mm`` and ``scale`` move the whole plot as a plotter or scanner would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from fpdf import FPDF

#: where each change is, in millimetres (x0, y0, x1, y1) on an A4 landscape sheet
KNOWN: dict[str, tuple[float, float, float, float]] = {
    "moved_wall": (143, 35, 172, 125),
    "new_dimension": (35, 168, 125, 190),
    "removed_door": (55, 108, 82, 132),
}

A4 = (297.0, 210.0)
A1 = (841.0, 594.0)


def plan(
    pdf: FPDF,
    sheet: int = 1,
    changes: Iterable[str] = (),
    shift_mm: tuple[float, float] = (0.0, 0.0),
    scale: float = 1.0,
    size: tuple[float, float] = A4,
) -> None:
    """Add one plan sheet to ``pdf``; ``size`` other than A4 draws the same plan scaled up."""
    changes = set(changes)
    width, height = size
    grow = width / A4[0]
    pdf.add_page(format=(width, height))
    pdf.set_draw_color(0)

    def at(x: float, y: float) -> tuple[float, float]:
        return (x * grow * scale + shift_mm[0], y * grow * scale + shift_mm[1])

    def line(x0: float, y0: float, x1: float, y1: float, weight: float = 0.35) -> None:
        pdf.set_line_width(weight * grow * scale)
        pdf.line(*at(x0, y0), *at(x1, y1))

    def text(x: float, y: float, words: str, points: float = 9) -> None:
        pdf.set_font("helvetica", size=points * grow * scale)
        pdf.text(*at(x, y), words)

    # frame and title block
    line(10, 10, 287, 10)
    line(287, 10, 287, 200)
    line(287, 200, 10, 200)
    line(10, 200, 10, 10)
    line(200, 175, 287, 175)
    line(200, 175, 200, 200)
    text(204, 184, f"PLANTA {sheet} - VIVIENDA UNIFAMILIAR")
    text(204, 194, f"Hoja {sheet}   Escala 1:50")
    # outer walls, offset per sheet so sheets differ
    left, top = 30 + 6 * (sheet - 1), 40
    right, bottom = 250 - 4 * (sheet - 1), 160
    for x0, y0, x1, y1 in (
        (left, top, right, top),
        (right, top, right, bottom),
        (right, bottom, left, bottom),
        (left, bottom, left, top),
    ):
        line(x0, y0, x1, y1, 1.2)
    # inner wall (moved 15 mm to the right by "moved_wall")
    wall = 165.0 if "moved_wall" in changes else 150.0
    line(wall, top, wall, 120, 0.9)
    # rooms of this sheet
    for index in range(sheet):
        y = 60 + 18 * index
        line(left + 10, y, left + 40, y, 0.5)
        text(left + 12, y - 3, f"Dormitorio {index + 1}")
    line(190, 80, 240, 80, 0.9)
    text(200, 70, "Salón")
    # a door: leaf and swing (removed by "removed_door")
    if "removed_door" not in changes:
        line(60, 120, 60, 130, 0.5)
        pdf.set_line_width(0.25 * grow * scale)
        cx, cy = at(60, 120)
        r = 10 * grow * scale
        pdf.arc(cx - r, cy - r, 2 * r, start_angle=0, end_angle=90)
        line(60, 120, 70, 120, 0.5)
    # dimensions along the top
    line(left, 30, right, 30, 0.18)
    line(left, 27, left, 33, 0.18)
    line(right, 27, right, 33, 0.18)
    text((left + right) / 2 - 6, 28, f"{(right - left) / 20:.2f}")
    if "new_dimension" in changes:
        line(40, 180, 120, 180, 0.18)
        line(40, 177, 40, 183, 0.18)
        line(120, 177, 120, 183, 0.18)
        text(74, 178, "4.00")


def plan_set(
    path: Path,
    sheets: Sequence[int],
    changes: dict[int, Iterable[str]] | None = None,
    shift_mm: tuple[float, float] = (0.0, 0.0),
    scale: float = 1.0,
    size: tuple[float, float] = A4,
) -> Path:
    """A PDF of the plan ``sheets`` in that order, with ``changes`` per sheet number."""
    pdf = FPDF(unit="mm")
    pdf.set_auto_page_break(False)
    for sheet in sheets:
        plan(pdf, sheet, (changes or {}).get(sheet, ()), shift_mm, scale, size)
    pdf.output(str(path))
    return path


CLAUSES = [
    "PRIMERA. Objeto. El arquitecto redactará el proyecto básico y de ejecución de la vivienda.",
    "SEGUNDA. Plazo. El proyecto se entregará en el plazo de treinta (30) días desde la firma.",
    "TERCERA. Honorarios. Los honorarios ascienden a doce mil euros más el impuesto aplicable.",
    "CUARTA. Pago. El cliente pagará cada factura dentro de los quince días siguientes.",
]


def contract(path: Path, clauses: Sequence[str] = CLAUSES) -> Path:
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    pdf.text(20, 25, "CONTRATO DE ENCARGO PROFESIONAL")
    pdf.set_font("helvetica", size=10)
    pdf.set_xy(20, 40)
    for clause in clauses:
        pdf.multi_cell(170, 6, clause)
        pdf.ln(4)
    pdf.output(str(path))
    return path


def mm_box(
    box: tuple[float, float, float, float], size: tuple[float, float] = A4
) -> tuple[float, float, float, float]:
    """A millimetre box on an A4 plan as fractions of a sheet of ``size`` (same proportions)."""
    width, height = A4
    return (box[0] / width, box[1] / height, box[2] / width, box[3] / height)


def overlaps(a: Sequence[float], b: Sequence[float], margin: float = 0.01) -> bool:
    return (
        a[0] <= b[2] + margin
        and b[0] <= a[2] + margin
        and a[1] <= b[3] + margin
        and b[1] <= a[3] + margin
    )


def precision_recall(
    found: Sequence[Sequence[float]], known: Sequence[Sequence[float]]
) -> tuple[float, float]:
    """Found boxes that lie on a known change, and known changes some found box covers."""
    if not found and not known:
        return 1.0, 1.0
    precision = (
        sum(any(overlaps(f, k) for k in known) for f in found) / len(found) if found else 1.0
    )
    recall = sum(any(overlaps(k, f) for f in found) for k in known) / len(known) if known else 1.0
    return precision, recall
