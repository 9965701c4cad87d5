"""Benchmark the OCR pipeline against the bare tesseract command, and its scaling over workers.

Runs standalone: ``.venv/bin/python bench/ocr.py [--repeat 5] [--pages 8] [--check]``.
The same generated payslip page (300 dpi, mildly noisy) goes through ``ocr.read_page``
and through ``tesseract page.png stdout -l spa+eng``, both with OMP_THREAD_LIMIT=1;
then a batch of pages is read by one and by two worker processes.
Targets: pipeline ≤ 1.15 × tesseract per page; two workers ≥ 1.7 × the pages per minute
of one.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The payslips are the tests' generated documents, which live next to the tests.
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import ocr_samples as samples  # noqa: E402

from ocr import fill_form, read_page  # noqa: E402

RATIO_TARGET = 1.15
SCALING_TARGET = 1.7


def make_pages(folder: Path, count: int, seed: int) -> list[Path]:
    """Write ``count`` different noisy payslips as PNG files."""
    rng = random.Random(seed)
    paths = []
    for number in range(count):
        path = folder / f"payslip-{number}.png"
        samples.degrade(samples.payslip(rng).image, rng).save(path, dpi=(300, 300))
        paths.append(path)
    return paths


def raw_tesseract(path: Path) -> float:
    """Seconds for the bare tesseract command on ``path``."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    started = time.perf_counter()
    subprocess.run(
        ["tesseract", str(path), "stdout", "-l", "spa+eng"],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - started


def pipeline(path: Path) -> float:
    """Seconds for the library to read the page into words with boxes."""
    started = time.perf_counter()
    read_page(path, 1)
    return time.perf_counter() - started


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _read(path: str) -> float:
    """Read one page in a worker; return the CPU seconds it took there and in tesseract."""
    started = _cpu_seconds()
    read_page(path, 1)
    return _cpu_seconds() - started


def pages_per_minute(paths: list[Path], workers: int) -> tuple[float, float]:
    """Pages per minute when ``workers`` processes read ``paths``, and CPU seconds per page."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_read, [str(paths[0])] * workers))  # start the workers first
        started = time.perf_counter()
        cpu = sum(pool.map(_read, [str(p) for p in paths]))
        elapsed = time.perf_counter() - started
    return len(paths) / elapsed * 60, cpu / len(paths)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per page (median)")
    parser.add_argument("--pages", type=int, default=8, help="pages in the worker batch")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as directory:
        paths = make_pages(Path(directory), max(args.pages, 1), args.seed)
        page = paths[0]
        raw_tesseract(page), pipeline(page)  # warm the caches
        raw_times, pipeline_times = [], []
        for _ in range(args.repeat):
            # Alternate so that background load falls on both alike.
            raw_times.append(raw_tesseract(page))
            pipeline_times.append(pipeline(page))
        raw = statistics.median(raw_times)
        piped = statistics.median(pipeline_times)
        ratio = piped / raw

        started = time.perf_counter()
        form = fill_form("datos_nomina", [read_page(page, 1)])
        with_form = time.perf_counter() - started

        one, one_cpu = pages_per_minute(paths, 1)
        two, two_cpu = pages_per_minute(paths, 2)
        scaling = two / one

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(
        f"raw tesseract per page:   {raw:.3f} s  (runs: {', '.join(f'{t:.2f}' for t in raw_times)})"
    )
    print(
        f"pipeline per page:        {piped:.3f} s  "
        f"(runs: {', '.join(f'{t:.2f}' for t in pipeline_times)})"
    )
    ratio_ok = ratio <= RATIO_TARGET
    print(
        f"pipeline / tesseract:     {ratio:.2f}x  target <= {RATIO_TARGET}  "
        f"{'OK' if ratio_ok else 'MISSED'}"
    )
    print(f"page + datos_nomina form: {with_form:.3f} s  ({len(form)} fields filled)")
    scaling_ok = scaling >= SCALING_TARGET
    print(f"one worker:               {one:.1f} pages/min  ({one_cpu:.2f} CPU s per page)")
    print(f"two workers:              {two:.1f} pages/min  ({two_cpu:.2f} CPU s per page)")
    print(
        f"two / one:                {scaling:.2f}x  target >= {SCALING_TARGET}  "
        f"{'OK' if scaling_ok else 'MISSED'}"
    )
    print(
        f"peak memory: this process {own:.0f} MiB, "
        f"largest child (worker or tesseract) {children:.0f} MiB"
    )
    if os.getloadavg()[0] > 1.5:
        print("note: other work was running; wall-clock scaling is only meaningful on idle cores")
    return 0 if (ratio_ok and scaling_ok) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
