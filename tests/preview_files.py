"""Files to draw previews from (made here), and a job runner that holds jobs until asked."""

from __future__ import annotations

import io
from typing import Any

import ezdxf
from PIL import Image, ImageDraw


def png_bytes(width: int = 1200, height: int = 800) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).ellipse((100, 100, width - 100, height - 100), fill="navy")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pdf_pages(count: int = 3) -> bytes:
    pages = [Image.new("RGB", (850, 1100), "white") for _ in range(count)]
    for number, page in enumerate(pages, start=1):
        ImageDraw.Draw(page).rectangle((100, 100, 100 + 60 * number, 400), fill="black")
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=100)
    return out.getvalue()


def dxf_bytes() -> bytes:
    drawing = ezdxf.new()
    model = drawing.modelspace()
    model.add_lwpolyline([(0, 0), (300, 0), (300, 150), (0, 150)], close=True)
    model.add_line((0, 0), (300, 150))
    text = io.StringIO()
    drawing.write(text)
    return text.getvalue().encode("utf-8")


class Jobs:
    """A job runner that records what was sent and runs it only when asked."""

    def __init__(self, app: Any) -> None:
        from app.extensions import celery

        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self._celery = celery
        self.app = app
        app.extensions["portal_job_runner"] = self.record

    def record(self, name: str, *args: Any) -> None:
        self.sent.append((name, args))

    def previews_sent(self) -> list[tuple[Any, ...]]:
        return [args for name, args in self.sent if name == "portal.render_preview"]

    def run_all(self) -> None:
        jobs, self.sent = self.sent, []
        for name, args in jobs:
            self._celery.tasks[name].apply(args=list(args))
