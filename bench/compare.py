"""Benchmark the compare of two versions of a drawing set against drawing them (the floor).

Runs standalone: ``.venv/bin/python bench/compare.py [--pages 20] [--dpi 150] [--repeat 1]``.
Two versions of an A1 drawing set are made here (``tests/compare_samples.py``'s plan, with
a hatch that gives each sheet some weight); the second moves a wall, adds a dimension and
removes a door on every fifth sheet. Measured:

- the floor: every page of both versions drawn with pdfium at ``--dpi`` (grey, as the
  compare draws them), in this process;
- the compare as the portal's job runs it (``compare_contained``: a child process with the
  preview limits, images written), and its peak memory (the child's maximum RSS);
- pages per second with one worker, then with two workers each comparing its own set at
  once (two processes: the way two Celery workers share a machine); beside it, the same
  scaling of the floor (pdfium drawing both sets in two processes at once): the most two
  processes gain on this machine, whose two virtual CPUs do not make two whole ones.

Targets (issue 21): compare ≤ 2.5× the floor, peak memory < 400 MB, two workers ≥ 1.7× the
pages per second of one. Prints the figures and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from compare_samples import A1, KNOWN, plan  # noqa: E402
from fpdf import FPDF  # noqa: E402

from previews import PreviewKind  # noqa: E402
from previews.compare import CompareLimits, compare_contained  # noqa: E402

PDF = PreviewKind.pdf
TARGET_RATIO = 2.5
TARGET_MEMORY_MB = 400
TARGET_SCALING = 1.7


def drawing_set(path: Path, pages: int, changed: bool) -> Path:
    pdf = FPDF(unit="mm")
    pdf.set_auto_page_break(False)
    for sheet in range(1, pages + 1):
        changes = list(KNOWN) if changed and sheet % 5 == 0 else []
        plan(pdf, (sheet - 1) % 6 + 1, changes, size=A1)
        # a hatch and a grid of fixtures: some weight for pdfium on each sheet
        pdf.set_line_width(0.13)
        for step in range(0, 400, 4):
            pdf.line(100 + step, 120, 100 + step + 60, 440)
        for row in range(12):
            for column in range(30):
                x, y = 560 + column * 8, 120 + row * 14
                pdf.rect(x, y, 5, 9)
        pdf.set_font("helvetica", size=9)
        pdf.text(600, 560, f"Plano {sheet:02d} de {pages:02d}")
    pdf.output(str(path))
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def draw_both(old: Path, new: Path, dpi: float) -> tuple[float, float]:
    """Wall and CPU seconds to draw every page of both files with pdfium at ``dpi``."""
    import pypdfium2 as pdfium

    started, cpu = time.perf_counter(), time.process_time()
    for path in (old, new):
        document = pdfium.PdfDocument(str(path))
        try:
            for page in document:
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                bitmap.to_numpy()
                page.close()
        finally:
            document.close()
    return time.perf_counter() - started, time.process_time() - cpu


def _draw_pair(pair: tuple[Path, Path, float]) -> float:
    return draw_both(*pair)[0]


def floor_scaling(sets: list[tuple[Path, Path]], dpi: float, one: float) -> float:
    """Pages per second of two processes drawing a set each at once, over one process's."""
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_draw_pair, [(old, new, 20.0) for old, new in sets]))  # started, warm
        started = time.perf_counter()
        list(pool.map(_draw_pair, [(old, new, dpi) for old, new in sets]))
        two = time.perf_counter() - started
    return 2 * one / two


def timed_compare(old: Path, new: Path, output: Path, limits: CompareLimits) -> tuple[float, float]:
    """Wall and CPU seconds (the child's) of one contained compare."""
    started, cpu = time.perf_counter(), _children_cpu()
    compare_contained(old, PDF, new, PDF, output, limits)
    return time.perf_counter() - started, _children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--dpi", type=float, default=150.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="judge the time ratio on wall-clock time, or on CPU time (steadier on a shared "
        "machine: other processes' load does not count)",
    )
    args = parser.parse_args()
    limits = CompareLimits(dpi=args.dpi, timeout_seconds=3600)
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as name:
        folder = Path(name)
        sets = [
            (
                drawing_set(folder / f"A{n}.pdf", args.pages, changed=False),
                drawing_set(folder / f"B{n}.pdf", args.pages, changed=True),
            )
            for n in (1, 2)
        ]
        old, new = sets[0]
        print(
            f"{args.pages} A1 sheets per version at {args.dpi:.0f} dpi; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        draw_both(old, new, 20)  # warm imports and the disk cache
        floors, ones = [], []
        for run in range(args.repeat):  # interleaved: a load that comes and goes hits both
            floors.append(draw_both(old, new, args.dpi))
            ones.append(timed_compare(old, new, folder / f"out-{run}", limits))
        floor = statistics.median(f[0] for f in floors)
        floor_cpu = statistics.median(f[1] for f in floors)
        one = statistics.median(o[0] for o in ones)
        one_cpu = statistics.median(o[1] for o in ones)
        memory_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        twos, floor_scalings = [], []
        for run in range(args.repeat):
            started = time.perf_counter()
            with ThreadPoolExecutor(2) as pool:  # each call runs its own child process
                list(
                    pool.map(
                        lambda job: timed_compare(job[1][0], job[1][1], job[0], limits),
                        [(folder / f"two-{run}-{n}", pair) for n, pair in enumerate(sets)],
                    )
                )
            twos.append(time.perf_counter() - started)
            floor_scalings.append(floor_scaling(sets, args.dpi, floor))
        two = statistics.median(twos)
        machine = statistics.median(floor_scalings)
    pages = args.pages
    ratio = one_cpu / floor_cpu if args.clock == "cpu" else one / floor
    one_rate, two_rate = pages / one, 2 * pages / two
    scaling = two_rate / one_rate
    rows = [
        ("floor: draw both versions (pdfium)", f"{floor:.2f} s wall, {floor_cpu:.2f} s CPU", ""),
        (
            "compare (contained, images written)",
            f"{one:.2f} s wall, {one_cpu:.2f} s CPU",
            f"{one / floor:.2f}× floor wall, {one_cpu / floor_cpu:.2f}× CPU "
            f"(target ≤ {TARGET_RATIO}×, judged on {args.clock})",
        ),
        ("peak memory of the compare", f"{memory_mb:.0f} MiB", f"target < {TARGET_MEMORY_MB} MB"),
        ("one worker", f"{one_rate:.2f} pages/s", ""),
        (
            "two workers",
            f"{two_rate:.2f} pages/s",
            f"{scaling:.2f}× one (target ≥ {TARGET_SCALING}×)",
        ),
        (
            "the floor in two processes at once",
            f"{machine:.2f}× one",
            f"what this machine gives two processes; the compare reaches "
            f"{scaling / machine:.0%} of it",
        ),
    ]
    print("| measure | value | against |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    missed = [
        what
        for what, bad in (
            ("time", ratio > TARGET_RATIO),
            ("memory", memory_mb * 1024 * 1024 / 1e6 >= TARGET_MEMORY_MB),
            ("scaling", scaling < TARGET_SCALING),
        )
        if bad
    ]
    if missed:
        print("missed: " + ", ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
