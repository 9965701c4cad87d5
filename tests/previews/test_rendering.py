"""Previews drawn from real files: PDFs, images, DXF drawings and a video made here."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import ezdxf
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter

import previews
from previews import PreviewKind, PreviewLimits, PreviewRequest


def _picture(width: int = 1200, height: int = 800) -> Image.Image:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle(
        (width // 10, height // 10, width // 2, height // 2), fill="red"
    )
    return image


@pytest.fixture
def pdf_file(tmp_path: Path) -> Path:
    """A three-page PDF, landscape pages, the third one portrait."""
    path = tmp_path / "plano.pdf"
    first, second, third = _picture(), _picture(), _picture(600, 900)
    first.save(path, save_all=True, append_images=[second, third], resolution=100)
    return path


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "foto.png"
    _picture().save(path)
    return path


@pytest.fixture
def dxf_file(tmp_path: Path) -> Path:
    path = tmp_path / "planta.dxf"
    drawing = ezdxf.new()
    model = drawing.modelspace()
    model.add_lwpolyline([(0, 0), (200, 0), (200, 100), (0, 100)], close=True)
    model.add_circle((100, 50), 30)
    model.add_line((0, 0), (200, 100))
    drawing.saveas(path)
    return path


def _size(rendition: previews.Rendition) -> tuple[int, int]:
    with Image.open(io.BytesIO(rendition.data)) as image:
        assert image.format == "WEBP"
        return image.size


def test_kinds_from_type_and_name():
    assert previews.kind_for("application/pdf", "a.pdf") == PreviewKind.pdf
    assert previews.kind_for("image/jpeg", "foto.jpg") == PreviewKind.image
    assert previews.kind_for("image/vnd.dxf", "planta.dxf") == PreviewKind.dxf
    assert previews.kind_for("application/octet-stream", "PLANTA.DXF") == PreviewKind.dxf
    assert previews.kind_for("video/mp4", "obra.mp4") == PreviewKind.video
    # an uploaded SVG could carry scripts: never shown as a preview
    assert previews.kind_for("image/svg+xml", "logo.svg") is None
    assert previews.kind_for("image/vnd.dwg", "planta.dwg") is None
    assert previews.kind_for("text/plain", "memo.txt") is None


def test_image_thumbnail_keeps_proportions(png_file: Path):
    rendition = previews.render_contained(png_file, PreviewRequest(PreviewKind.image, max_side=320))
    assert rendition.media_type == "image/webp"
    assert _size(rendition) == (320, 213) == (rendition.width, rendition.height)


def test_pdf_thumbnail_is_the_first_page_and_other_pages_come_on_demand(pdf_file: Path):
    thumbnail = previews.render_contained(pdf_file, PreviewRequest(PreviewKind.pdf))
    assert thumbnail.page_count == 3
    width, height = _size(thumbnail)
    assert width == 320 and abs(height - 213) <= 1  # the landscape first page
    third = previews.render_contained(
        pdf_file, PreviewRequest(PreviewKind.pdf, max_side=900, page=3)
    )
    width, height = _size(third)
    assert abs(width - 600) <= 1 and height == 900  # the portrait third page, at the viewer's size
    with pytest.raises(previews.PageOutOfRange):
        previews.render(pdf_file, PreviewRequest(PreviewKind.pdf, page=4))


def test_huge_pdf_page_is_refused_before_drawing(pdf_file: Path):
    small = PreviewLimits(max_output_pixels=100_000)
    with pytest.raises(previews.TooLarge):
        previews.render(pdf_file, PreviewRequest(PreviewKind.pdf, max_side=2000), small)


def test_password_protected_pdf(pdf_file: Path, tmp_path: Path):
    writer = PdfWriter(clone_from=PdfReader(pdf_file))
    writer.encrypt("secreto")
    locked = tmp_path / "cerrado.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(previews.EncryptedFile) as caught:
        previews.render_contained(locked, PreviewRequest(PreviewKind.pdf))
    assert caught.value.code == "encrypted"


def test_decompression_bomb_is_refused_from_its_header(tmp_path: Path):
    bomb = tmp_path / "bomba.png"
    Image.new("1", (20_000, 20_000)).save(bomb)  # 400 megapixels in a few kilobytes
    assert bomb.stat().st_size < 200_000
    with pytest.raises(previews.TooLarge) as caught:
        previews.render_contained(bomb, PreviewRequest(PreviewKind.image))
    assert caught.value.code == "too_large"


@pytest.mark.parametrize("kind", [PreviewKind.pdf, PreviewKind.image, PreviewKind.dxf])
def test_corrupt_files_end_with_a_code(tmp_path: Path, png_file: Path, kind: PreviewKind):
    broken = tmp_path / "roto"
    if kind == PreviewKind.image:
        broken.write_bytes(png_file.read_bytes()[:300])  # a truncated PNG
    else:
        broken.write_bytes(b"%PDF-1.4 esto no es un PDF\n0\nSECTION\n")
    with pytest.raises(previews.CorruptFile) as caught:
        previews.render_contained(broken, PreviewRequest(kind))
    assert caught.value.code == "corrupt"


def test_dxf_becomes_a_plain_svg(dxf_file: Path):
    rendition = previews.render_contained(dxf_file, PreviewRequest(PreviewKind.dxf, max_side=1000))
    assert rendition.media_type == "image/svg+xml"
    text = rendition.data.decode("utf-8")
    assert "<svg" in text and "<path" in text
    assert "<script" not in text.lower() and "href" not in text.lower()
    # a 200 × 100 drawing with 2 mm margins keeps its proportions
    assert rendition.width == 1000 and abs(rendition.height - 510) <= 3


def test_dxf_over_the_entity_cap(dxf_file: Path):
    with pytest.raises(previews.TooLarge):
        previews.render(
            dxf_file, PreviewRequest(PreviewKind.dxf), PreviewLimits(max_dxf_entities=2)
        )


needs_ffmpeg = pytest.mark.skipif(not previews.ffmpeg_available(), reason="ffmpeg not installed")


@needs_ffmpeg
def test_video_poster_frame(tmp_path: Path):
    video = tmp_path / "obra.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
         "-i", "testsrc=duration=2:size=640x360:rate=10", "-pix_fmt", "yuv420p", str(video)],
        check=True, timeout=60,
    )  # fmt: skip
    poster = previews.render_contained(video, PreviewRequest(PreviewKind.video, max_side=320))
    assert _size(poster) == (320, 180)
    with Image.open(io.BytesIO(poster.data)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert len(colours) > 10  # a picture, not a blank frame


@needs_ffmpeg
def test_not_a_video(tmp_path: Path):
    fake = tmp_path / "obra.mp4"
    fake.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    with pytest.raises(previews.CorruptFile):
        previews.render_contained(fake, PreviewRequest(PreviewKind.video))


def test_video_without_ffmpeg_is_unsupported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not previews.ffmpeg_available()
    video = tmp_path / "obra.mp4"
    video.write_bytes(b"whatever")
    with pytest.raises(previews.UnsupportedFile) as caught:
        previews.render_contained(video, PreviewRequest(PreviewKind.video))
    assert caught.value.code == "tool_unavailable"


def test_a_render_over_its_time_ends_as_timeout(tmp_path: Path):
    drawing = ezdxf.new()
    model = drawing.modelspace()
    for index in range(20_000):
        model.add_circle((index % 200, index // 200), 0.4)
    path = tmp_path / "denso.dxf"
    drawing.saveas(path)
    with pytest.raises(previews.RenderTimeout):
        previews.render_contained(
            path, PreviewRequest(PreviewKind.dxf), PreviewLimits(timeout_seconds=0.2)
        )


# A library that catches every Exception where the alarm may land (ezdxf loading its fonts
# does): the render must still end at its time, as a timeout, not draw on and answer.
_SWALLOWING_WORK = """
import sys, time
from previews.contained import answer_of, set_caps

def work():
    finish = time.monotonic() + 1.5
    while time.monotonic() < finish:
        try:
            sum(range(10_000))
        except Exception:
            pass
    return {"media_type": "image/webp"}

set_caps(0, 60, "render")
started = time.monotonic()
answer = answer_of(work, 0.2, "rendering")
print(answer.get("error"), round(time.monotonic() - started, 1))
"""


def test_a_library_that_catches_every_exception_does_not_outlive_the_time():
    root = Path(previews.__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _SWALLOWING_WORK],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    code, seconds = done.stdout.split()
    assert code == "timeout"
    assert float(seconds) < 1.0  # ended by the alarm, not by the work running out


def test_the_source_file_is_left_untouched(png_file: Path):
    before = png_file.read_bytes()
    previews.render_contained(png_file, PreviewRequest(PreviewKind.image))
    assert png_file.read_bytes() == before


def _children_of_this_process() -> list[int]:
    from previews import rendering

    return [child.process.pid for child in rendering._idle_children.values()]


def test_one_child_draws_many_renders_and_a_dead_one_is_replaced(png_file: Path, pdf_file: Path):
    from previews import rendering

    rendering._close_children()  # those of earlier tests, with other limits
    limits = PreviewLimits(timeout_seconds=30)
    first = previews.render_contained(png_file, PreviewRequest(PreviewKind.image), limits)
    (child,) = _children_of_this_process()
    previews.render_contained(pdf_file, PreviewRequest(PreviewKind.pdf), limits)
    assert _children_of_this_process() == [child]  # no new process per thumbnail

    # the child dies between two renders (killed, out of memory): the next render still works
    import os
    import signal

    os.kill(child, signal.SIGKILL)
    again = previews.render_contained(png_file, PreviewRequest(PreviewKind.image), limits)
    assert again.data == first.data
    assert _children_of_this_process() != [child]


def test_a_hung_render_does_not_reach_the_next_one(tmp_path: Path, png_file: Path):
    drawing = ezdxf.new()
    model = drawing.modelspace()
    for index in range(20_000):
        model.add_circle((index % 200, index // 200), 0.4)
    path = tmp_path / "denso.dxf"
    drawing.saveas(path)
    limits = PreviewLimits(timeout_seconds=0.2)
    with pytest.raises(previews.RenderTimeout):
        previews.render_contained(path, PreviewRequest(PreviewKind.dxf), limits)
    thumbnail = previews.render_contained(png_file, PreviewRequest(PreviewKind.image), limits)
    assert _size(thumbnail) == (320, 213)
