"""Benchmark previews: each kind drawn in the worker's process and contained in a child.

Runs standalone: ``.venv/bin/python bench/previews.py [--repeat 5]``.
Files are made here: a 12-megapixel photo (JPEG), the first page and page 200 of a
200-page PDF, a DXF plan with 5,000 entities and a 10-second 1080p video. For each,
``previews.render`` (in process: the floor) against ``render_contained`` (a child
process with time and memory caps: what the portal's job runs), medians of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw  # noqa: E402

import previews  # noqa: E402
from previews import PreviewKind, PreviewRequest  # noqa: E402


def make_files(folder: Path) -> list[tuple[str, Path, PreviewRequest]]:
    photo = Image.effect_noise((4000, 3000), 40).convert("RGB")
    ImageDraw.Draw(photo).ellipse((500, 500, 3500, 2500), outline="red", width=40)
    jpeg = folder / "photo.jpg"
    photo.save(jpeg, quality=90)

    page = Image.new("RGB", (850, 1100), "white")
    ImageDraw.Draw(page).rectangle((100, 100, 750, 400), fill="black")
    pdf = folder / "long.pdf"
    page.save(pdf, save_all=True, append_images=[page] * 199, resolution=100)

    import ezdxf

    drawing = ezdxf.new()
    model = drawing.modelspace()
    for index in range(5000):
        x, y = (index % 100) * 10, (index // 100) * 10
        if index % 2:
            model.add_circle((x, y), 4)
        else:
            model.add_line((x, y), (x + 9, y + 9))
    dxf = folder / "plan.dxf"
    drawing.saveas(dxf)

    rows = [
        ("photo 12 MP → 320 px WebP", jpeg, PreviewRequest(PreviewKind.image)),
        ("photo 12 MP → 1600 px WebP", jpeg, PreviewRequest(PreviewKind.image, max_side=1600)),
        ("PDF 200 pp, page 1 → 320 px", pdf, PreviewRequest(PreviewKind.pdf)),
        ("PDF 200 pp, page 200 → 1400 px", pdf, PreviewRequest(PreviewKind.pdf, 1400, 200)),
        ("DXF 5,000 entities → SVG", dxf, PreviewRequest(PreviewKind.dxf)),
    ]
    if previews.ffmpeg_available():
        video = folder / "site.mp4"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
             "-i", "testsrc2=duration=10:size=1920x1080:rate=25", "-pix_fmt", "yuv420p", str(video)],
            check=True,
        )  # fmt: skip
        rows.append(("video 1080p 10 s → poster 320 px", video, PreviewRequest(PreviewKind.video)))
    return rows


def median_ms(function, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = make_files(Path(folder))
        print("| case | source | in process | contained | ratio |\n|---|---|---|---|---|")
        for name, path, request in rows:
            previews.render(path, request)  # warm the imports and the disk cache
            bare = median_ms(lambda p=path, r=request: previews.render(p, r), args.repeat)
            boxed = median_ms(
                lambda p=path, r=request: previews.render_contained(p, r), args.repeat
            )
            size = path.stat().st_size / 1e6
            print(
                f"| {name} | {size:.1f} MB | {bare:.0f} ms | {boxed:.0f} ms | {boxed / bare:.2f}× |"
            )


if __name__ == "__main__":
    main()
