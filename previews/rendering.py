"""Previews of stored files: WebP thumbnails and page images, DXF drawings as SVG, video posters.

Pure functions over local paths: no web framework, no database. Every renderer checks
its limits before it decodes anything big (pixel caps against decompression bombs, one
PDF page at a time, an entity cap for drawings, ffmpeg's own ``max_pixels``) and raises
a ``PreviewError`` whose ``code`` a caller can keep as a status.

``render_contained`` runs each render in a child process with a time limit and a memory
cap: a file that hangs a decoder, or crashes one written in C (pdfium, ffmpeg), then
ends as a ``PreviewError`` instead of taking the calling worker down with it. The errors
and the child's caps are ``previews.contained``'s (the compares' children share them); the
errors are importable from here too.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import Any

from previews.contained import (
    CorruptFile,
    EncryptedFile,
    PageOutOfRange,
    PreviewError,
    RenderTimeout,
    TooLarge,
    ToolUnavailable,
    UnsupportedFile,
    answer_of,
    death_error,
    error_for,
    last_json_line,
    run_contained,
    set_caps,
)

__all__ = [
    "DEFAULT_LIMITS",
    "CorruptFile",
    "EncryptedFile",
    "PageOutOfRange",
    "PreviewError",
    "PreviewKind",
    "PreviewLimits",
    "PreviewRequest",
    "RenderTimeout",
    "Rendition",
    "ToolUnavailable",
    "TooLarge",
    "UnsupportedFile",
    "ffmpeg_available",
    "kind_for",
    "render",
    "render_contained",
]


class PreviewKind(StrEnum):
    pdf = "pdf"
    image = "image"
    dxf = "dxf"
    video = "video"


@dataclass(frozen=True)
class PreviewLimits:
    """Caps for one render."""

    #: pixels of a source image (header), or of a video frame (ffmpeg ``max_pixels``)
    max_source_pixels: int = 100_000_000
    #: pixels of a rendered PDF page bitmap
    max_output_pixels: int = 16_000_000
    #: entities in a DXF drawing's model space
    max_dxf_entities: int = 300_000
    #: size of the SVG made from a drawing
    max_svg_bytes: int = 64 * 1024 * 1024
    #: wall-clock seconds for one render
    timeout_seconds: float = 60.0
    #: address-space cap of the contained child process; 0 leaves it unlimited
    memory_bytes: int = 3 * 1024**3

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")


DEFAULT_LIMITS = PreviewLimits()


@dataclass(frozen=True)
class PreviewRequest:
    """What to draw: the kind, the longest side of a raster output, and the PDF page."""

    kind: PreviewKind
    max_side: int = 320
    page: int = 1

    def __post_init__(self) -> None:
        if not 16 <= self.max_side <= 4096:
            raise ValueError("max_side must be between 16 and 4096 pixels")
        if self.page < 1:
            raise ValueError("page numbers start at 1")


@dataclass(frozen=True)
class Rendition:
    """A rendered preview: its bytes, media type and size (pixels; SVG: viewBox units)."""

    data: bytes = field(repr=False)
    media_type: str
    width: int
    height: int
    page_count: int | None = None


_RASTER_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/tiff",
        "image/bmp",
        "image/x-ms-bmp",
    }
)
_DXF_TYPES = frozenset({"image/vnd.dxf", "image/x-dxf", "application/dxf", "application/x-dxf"})
_VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg"})


def kind_for(content_type: str | None, filename: str | None) -> PreviewKind | None:
    """The preview kind of a file from its media type and name; None when nothing can draw it."""
    media = (content_type or "").split(";")[0].strip().lower()
    extension = Path(filename or "").suffix.lower()
    if extension == ".dxf" or media in _DXF_TYPES:
        return PreviewKind.dxf
    if media == "application/pdf" or extension == ".pdf":
        return PreviewKind.pdf
    if media in _RASTER_TYPES:
        return PreviewKind.image
    if media.startswith("video/") or extension in _VIDEO_EXTENSIONS:
        return PreviewKind.video
    return None


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


# ------------------------------------------------------------------ in-process renderers


def render(
    source: Path, request: PreviewRequest, limits: PreviewLimits = DEFAULT_LIMITS
) -> Rendition:
    """Render ``source`` in this process (see ``render_contained`` for untrusted files)."""
    deadline = time.monotonic() + limits.timeout_seconds
    if request.kind == PreviewKind.pdf:
        return _render_pdf(Path(source), request, limits)
    if request.kind == PreviewKind.image:
        return _render_image(Path(source), request, limits)
    if request.kind == PreviewKind.dxf:
        return _render_dxf(Path(source), request, limits)
    if request.kind == PreviewKind.video:
        return _render_video(Path(source), request, limits, deadline)
    raise UnsupportedFile(f"no renderer for {request.kind!r}")


def _check_pixels(width: int, height: int, limit: int, what: str) -> None:
    if width * height > limit:
        raise TooLarge(f"{what} of {width}×{height} pixels is over the limit of {limit}")


def _webp(image, page_count: int | None = None) -> Rendition:  # type: ignore[no-untyped-def]
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    out = BytesIO()
    image.save(out, format="WEBP", quality=80, method=4)
    return Rendition(out.getvalue(), "image/webp", image.width, image.height, page_count)


def _render_image(source: Path, request: PreviewRequest, limits: PreviewLimits) -> Rendition:
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # Our own cap is checked on the header before decoding; Pillow's warning is noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as image:
                _check_pixels(image.width, image.height, limits.max_source_pixels, "image")
                image.thumbnail((request.max_side, request.max_side), Image.Resampling.LANCZOS)
                upright = ImageOps.exif_transpose(image)
                return _webp(upright if upright is not None else image)
        except Image.DecompressionBombError as error:
            raise TooLarge(str(error)) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise CorruptFile(f"cannot read image: {error}") from error


def _render_pdf(source: Path, request: PreviewRequest, limits: PreviewLimits) -> Rendition:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(source))
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise EncryptedFile("the PDF is protected with a password") from error
        raise CorruptFile(f"cannot read PDF: {error}") from error
    try:
        count = len(pdf)
        if not 1 <= request.page <= count:
            raise PageOutOfRange(f"the PDF has {count} pages, not page {request.page}")
        page = pdf[request.page - 1]
        try:
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise CorruptFile("page without a size")
            scale = request.max_side / max(width, height)
            _check_pixels(
                round(width * scale), round(height * scale), limits.max_output_pixels, "page"
            )
            bitmap = page.render(scale=scale)
            return _webp(bitmap.to_pil(), page_count=count)
        except pdfium.PdfiumError as error:
            raise CorruptFile(f"cannot draw page {request.page}: {error}") from error
        finally:
            page.close()
    finally:
        pdf.close()


_VIEWBOX = re.compile(rb'viewBox="[-\d.e]+ [-\d.e]+ ([\d.e]+) ([\d.e]+)"')


def _render_dxf(source: Path, request: PreviewRequest, limits: PreviewLimits) -> Rendition:
    # Names imported from the modules that define them: ezdxf's packages re-export them
    # without saying so, which a strict type check does not accept.
    from ezdxf import recover
    from ezdxf.addons.drawing import config, layout, svg
    from ezdxf.addons.drawing.frontend import Frontend
    from ezdxf.addons.drawing.properties import RenderContext
    from ezdxf.lldxf.const import DXFError

    try:
        document, _auditor = recover.readfile(source)
    except (OSError, DXFError, UnicodeError, ValueError) as error:
        raise CorruptFile(f"cannot read DXF: {error}") from error
    model = document.modelspace()
    entities = len(model)
    if entities > limits.max_dxf_entities:
        raise TooLarge(f"{entities} entities, over the limit of {limits.max_dxf_entities}")
    if entities == 0:
        raise CorruptFile("the drawing is empty")
    settings = config.Configuration(
        background_policy=config.BackgroundPolicy.WHITE,
        # never follow an IMAGE entity's path: it names a file on the author's machine
        image_policy=config.ImagePolicy.RECT,
    )
    backend = svg.SVGBackend()
    try:
        Frontend(RenderContext(document), backend, config=settings).draw_layout(model)
        page = layout.Page(0, 0, layout.Units.mm, margins=layout.Margins.all(2))
        text = backend.get_string(page)
    except (DXFError, ValueError, ArithmeticError, AttributeError, TypeError) as error:
        raise CorruptFile(f"cannot draw DXF: {error}") from error
    data = text.encode("utf-8")
    if len(data) > limits.max_svg_bytes:
        raise TooLarge(f"SVG of {len(data)} bytes, over the limit of {limits.max_svg_bytes}")
    # the size an <img> should reserve: the drawing's proportions at the requested side
    match = _VIEWBOX.search(data[:4096])
    box_width, box_height = (float(match.group(1)), float(match.group(2))) if match else (1.0, 1.0)
    scale = request.max_side / max(box_width, box_height, 1e-9)
    width, height = max(1, round(box_width * scale)), max(1, round(box_height * scale))
    return Rendition(data, "image/svg+xml", width, height)


def _render_video(
    source: Path, request: PreviewRequest, limits: PreviewLimits, deadline: float
) -> Rendition:
    from PIL import Image

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise ToolUnavailable("ffmpeg is not installed")
    side = request.max_side
    scale = f"scale=w='min(iw\\,{side})':h='min(ih\\,{side})':force_original_aspect_ratio=decrease"
    with tempfile.TemporaryDirectory(prefix="portal-poster-") as folder:
        frame = Path(folder) / "frame.png"
        # one second in skips the black first frame most videos start with; short clips
        # have no frame there, so the start is tried next
        for seek in ("1", "0"):
            command = [
                ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
                "-max_pixels", str(limits.max_source_pixels),
                "-ss", seek, "-i", str(source),
                "-frames:v", "1", "-vf", scale, "-f", "image2", "-c:v", "png", "-y", str(frame),
            ]  # fmt: skip
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RenderTimeout(f"no poster frame after {limits.timeout_seconds} s")
            code, errors = _run_contained(command, remaining)
            if code == 0 and frame.exists() and frame.stat().st_size:
                break
        else:
            raise CorruptFile(f"no video frame: {errors.strip()[-300:] or 'empty stream'}")
        with Image.open(frame) as image:
            _check_pixels(image.width, image.height, limits.max_source_pixels, "frame")
            image.load()
            return _webp(image)


def _run_contained(command: list[str], timeout: float) -> tuple[int, str]:
    """Run ``command`` contained (its whole group killed on timeout): code and output."""
    code, out, err = run_contained(command, max(timeout, 0.001), "render")
    text = err.decode("utf-8", "replace")
    if out:
        text = out.decode("utf-8", "replace") + "\n" + text
    return code, text


# ------------------------------------------------------------------ contained renders


def render_contained(
    source: Path, request: PreviewRequest, limits: PreviewLimits = DEFAULT_LIMITS
) -> Rendition:
    """Render ``source`` in a child process with ``limits``' time and memory caps.

    The child is kept for the next renders with the same limits (starting Python and
    importing pdfium, Pillow and ezdxf costs more than drawing a thumbnail): it is replaced
    after ``RENDERS_PER_CHILD`` renders, and at once when it dies, hangs or runs out of
    memory, so one hostile file never reaches the next render. A child busy with another
    thread's render is not waited for: that render gets a child of its own.
    """
    job = {
        "source": str(Path(source).resolve()),
        "request": {**asdict(request), "kind": request.kind.value},
    }
    key = (tuple(sorted(asdict(limits).items())), os.environ.get("PATH", ""))
    with _children_lock:
        child = _idle_children.pop(key, None)
    if child is None or not child.usable():
        if child is not None:
            child.close()
        child = _Child(limits)
    try:
        try:
            answer, data = child.render(job, limits)
        except CorruptFile:
            if not child.reused:
                raise
            # a kept child that died while idle (killed, out of memory): once more, fresh
            child.close()
            child = _Child(limits)
            answer, data = child.render(job, limits)
    finally:
        if child.usable():
            with _children_lock:
                spare = _idle_children.setdefault(key, child)
            if spare is not child:
                child.close()
        else:
            child.close()
    if "error" in answer:
        raise error_for(answer["error"])(answer.get("detail", ""))
    return Rendition(
        data,
        answer["media_type"],
        int(answer["width"]),
        int(answer["height"]),
        answer.get("page_count"),
    )


#: renders one child process draws before it is replaced (bounds what a leak can grow)
RENDERS_PER_CHILD = 200
_children_lock = threading.Lock()
_idle_children: dict[tuple[object, ...], _Child] = {}


class _Child:
    """One rendering child process: JSON lines in on stdin, one answer line per job out."""

    def __init__(self, limits: PreviewLimits) -> None:
        self.pid_of_parent = os.getpid()
        self.renders = 0
        self.folder = Path(tempfile.mkdtemp(prefix="portal-preview-"))
        # the file itself rather than ``-m previews.rendering`` (-P: its folder stays off
        # sys.path): the child imports what drawing needs and, for ``previews.contained``,
        # the previews package, whose modules load only the standard library until they draw
        command = [
            sys.executable,
            "-P",
            str(Path(__file__).resolve()),
            "--serve",
            json.dumps(asdict(limits)),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def usable(self) -> bool:
        return (
            self.process.poll() is None
            and self.renders < RENDERS_PER_CHILD
            and self.pid_of_parent == os.getpid()
        )

    @property
    def reused(self) -> bool:
        return self.renders > 1

    def render(self, job: dict, limits: PreviewLimits) -> tuple[dict, bytes]:  # type: ignore[type-arg]
        self.renders += 1
        output = self.folder / f"rendition-{self.renders}"
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps({**job, "output": str(output)}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            raise self._died() from None
        # the child keeps its own deadline; this one only catches a child that hangs
        ready = select.select([self.process.stdout], [], [], limits.timeout_seconds + 10)[0]
        if not ready:
            self.kill()
            raise RenderTimeout(f"render not done after {limits.timeout_seconds:.0f} s")
        line = self.process.stdout.readline()
        answer = last_json_line(line)
        if answer is None:
            raise self._died()
        try:
            data = output.read_bytes() if "error" not in answer else b""
        finally:
            output.unlink(missing_ok=True)
        return answer, data

    def _died(self) -> PreviewError:
        self.kill()
        return death_error(self.process.returncode, "render")

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def close(self) -> None:
        if self.pid_of_parent != os.getpid():
            return  # a forked copy: the process belongs to the parent
        if self.process.poll() is None and self.process.stdin is not None:
            try:
                self.process.stdin.close()  # the child ends when its input ends
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@atexit.register
def _close_children() -> None:
    with _children_lock:
        children = list(_idle_children.values())
        _idle_children.clear()
    for child in children:
        child.close()


def _serve(limits_json: str) -> None:
    """The child side of ``render_contained``: caps once, then one render per input line."""
    limits = PreviewLimits(**json.loads(limits_json))
    # CPU time adds up over the child's life: enough for every render it may do
    cpu = int(limits.timeout_seconds + 1) * RENDERS_PER_CHILD
    set_caps(limits.memory_bytes, cpu, "render")
    # answers go to the original stdout; whatever a library prints goes to stderr instead
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for line in sys.stdin:
        job = json.loads(line)
        answers.write(json.dumps(_render_job(job, limits)) + "\n")
        answers.flush()


def _render_job(job: dict[str, Any], limits: PreviewLimits) -> dict[str, Any]:
    request = PreviewRequest(**{**job["request"], "kind": PreviewKind(job["request"]["kind"])})

    def work() -> dict[str, Any]:
        rendition = render(Path(job["source"]), request, limits)
        Path(job["output"]).write_bytes(rendition.data)
        return {
            "media_type": rendition.media_type,
            "width": rendition.width,
            "height": rendition.height,
            "page_count": rendition.page_count,
        }

    return answer_of(work, limits.timeout_seconds, "rendering")


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    _serve(sys.argv[2])
