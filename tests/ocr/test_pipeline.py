"""The reading pipeline: PDFs and images, limits, engines, searchable copies."""

from __future__ import annotations

import hashlib
import io
import json
import random
import stat
import struct
import time
import zlib
from pathlib import Path

import ocr_samples as samples
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

import ocr.pdf
import ocr.pipeline
from ocr.engine import OcrEngine, TesseractEngine, available_engines, get_engine, register_engine
from ocr.errors import (
    EngineUnavailable,
    ImageTooLarge,
    OcrTimeout,
    TooManyPages,
    UnreadableFile,
)
from ocr.extractors import find_identifiers
from ocr.forms import fill_form
from ocr.pdf import make_searchable_pdf
from ocr.pipeline import inspect_source, page_image, read_document, read_page, text_layer
from ocr.results import DocumentText, PageText, Word
from ocr.settings import OcrLimits


class FakeEngine:
    """An engine that reads nothing but the page size, to test the pipeline without tesseract."""

    name = "fake"

    def __init__(self, **options: object) -> None:
        self.calls: list[int] = []

    def recognize(self, image, *, page_number=1, timeout_seconds=0, dpi=0):
        if isinstance(image, Path):
            with Image.open(image) as opened:
                size = opened.size
        else:
            size = image.size
        self.calls.append(page_number)
        word = Word(f"page{page_number}", 50.0, (0, 0, 10, 10), "1")
        return PageText.from_words(page_number, [word], size[0], size[1], dpi=dpi)


def png_header(width: int, height: int) -> bytes:
    """A PNG claiming ``width`` × ``height`` pixels in a few bytes: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def blank_pdf(pages: int, size: tuple[float, float] = (595, 842)) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(*size)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def scanned_certificate(tmp_path_factory, seed) -> tuple[Path, samples.SampleDocument]:
    """An image-only PDF of a bank certificate, as a scanner would make it."""
    rng = random.Random(seed)
    document = samples.bank_certificate(rng)
    path = tmp_path_factory.mktemp("scan") / "certificado.pdf"
    samples.degrade(document.image, rng).save(path, "PDF", resolution=300)
    return path, document


# ------------------------------------------------------------------ PDFs


def test_a_scanned_pdf_is_read_by_ocr(scanned_certificate):
    path, document = scanned_certificate
    assert text_layer(path, 1) is None
    result = read_document(path)
    assert result.source.kind == "pdf" and result.source.page_count == 1
    (page,) = result.pages
    assert page.method == "ocr" and page.dpi == 300
    assert abs(page.width - 2480) < 80 and abs(page.height - 3508) < 80  # ±1° turned
    assert "CERTIFICADO" in page.text and page.confidence > 70
    assert fill_form("alta_cliente", result)["iban"].value == document.expected["iban"]
    assert DocumentText.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_searchable_copy_has_a_text_layer_and_leaves_the_original_alone(
    scanned_certificate, tmp_path
):
    path, _ = scanned_certificate
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    copy = make_searchable_pdf(path, tmp_path / "out" / "certificado-ocr.pdf")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert copy.path.is_file() and copy.pdfa
    assert "CERTIFICADO" in PdfReader(copy.path).pages[0].extract_text()
    assert [p.name for p in copy.path.parent.iterdir()] == ["certificado-ocr.pdf"]
    # The copy's text layer is used as is, boxes in the same pixels as the scan's OCR.
    from_layer = read_page(copy.path, 1, engine=FakeEngine())
    from_ocr = read_page(path, 1)
    assert from_layer.method == "text_layer" and from_layer.confidence == 100
    layer_box = next(w.box for w in from_layer.words if w.text.startswith("CERTIF"))
    ocr_box = next(w.box for w in from_ocr.words if w.text.startswith("CERTIF"))
    assert all(abs(a - b) < 25 for a, b in zip(layer_box, ocr_box, strict=True)), (
        layer_box,
        ocr_box,
    )
    # (The copy's words are ocrmypdf's own reading, so its digits are not checked here.)
    assert "IBAN" in from_layer.text and "Titular" in from_layer.text


def test_the_searchable_copy_never_replaces_the_original(scanned_certificate):
    path, _ = scanned_certificate
    with pytest.raises(ValueError):
        make_searchable_pdf(path, path)


def test_a_born_digital_pdf_is_read_from_its_text_layer_without_ocr():
    fpdf = pytest.importorskip("fpdf")
    document = fpdf.FPDF(format="A4", unit="mm")
    document.add_page()
    document.set_font("helvetica", size=11)
    lines = [
        (20, 20, "Proveedor: Suministros Levante SL"),
        (20, 28, "CIF: B12345674"),
        (20, 40, "Factura: F2024-0153"),
        (120, 40, "Fecha: 31/05/2024"),
        (110, 80, "Base imponible"),
        (170, 80, "1.000,00"),
        (110, 88, "IVA 21 %"),
        (170, 88, "210,00"),
        (110, 96, "Total factura"),
        (170, 96, "1.210,00 EUR"),
    ]
    for x, y, text in lines:
        document.text(x, y, text)
    engine = FakeEngine()
    page = read_page(bytes(document.output()), 1, engine=engine)
    assert engine.calls == [] and page.method == "text_layer"
    assert (page.width, page.height) == (2481, 3508)
    form = fill_form("factura_recibida", [page])
    assert {name: value.value for name, value in form.items()} == {
        "supplier": "Suministros Levante SL",
        "supplier_cif": "B12345674",
        "invoice_number": "F2024-0153",
        "date": "2024-05-31",
        "base": "1.000,00",
        "vat": "210,00",
        "total": "1.210,00",
    }
    x0, y0, x1, y1 = form["supplier_cif"].box
    assert abs(x0 - 20 / 25.4 * 300 - 0.4 * 300 / 25.4 * 11) < 400 and y1 < 28 / 25.4 * 300 + 10


def test_text_layer_boxes_follow_a_rotated_page():
    fpdf = pytest.importorskip("fpdf")
    document = fpdf.FPDF(format="A4", unit="mm")
    document.add_page()
    document.set_font("helvetica", size=28)
    document.text(20, 30, "PAGINA ROTADA Y LEGIBLE")
    reader = PdfReader(io.BytesIO(bytes(document.output())))
    writer = PdfWriter()
    writer.add_page(reader.pages[0]).rotate(90)
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    page = read_page(data, 1, engine=FakeEngine())
    assert page.method == "text_layer" and page.width > page.height
    image = page_image(data, 1).convert("L")
    assert image.size == (page.width, page.height)
    for word in page.words:
        ink = image.crop(word.box).resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
        assert ink < 200, f"no ink under {word}"


# ------------------------------------------------------------------ limits


def test_a_5000_page_pdf_fails_fast_without_rasterising(monkeypatch, tmp_path):
    def explode(*args, **kwargs):
        raise AssertionError("nothing may be rasterised")

    monkeypatch.setattr(ocr.pipeline, "rasterise_pdf_page", explode)
    monkeypatch.setattr(ocr.pdf, "rasterise_pdf_page", explode)
    path = tmp_path / "huge.pdf"
    path.write_bytes(blank_pdf(5000))
    started = time.monotonic()
    for attempt in (
        lambda: inspect_source(path),
        lambda: read_page(path, 1),
        lambda: read_document(path),
        lambda: make_searchable_pdf(path, tmp_path / "copy.pdf"),
    ):
        with pytest.raises(TooManyPages) as raised:
            attempt()
        assert raised.value.pages == 5000 and raised.value.limit == 500
    assert time.monotonic() - started < 5
    assert not (tmp_path / "copy.pdf").exists()


def test_decompression_bomb_images_are_refused_before_decoding():
    started = time.monotonic()
    for width, height in ((100_000, 100_000), (20_000, 20_000), (9_000, 9_000)):
        bomb = png_header(width, height)
        with pytest.raises(ImageTooLarge):
            inspect_source(bomb)
        with pytest.raises(ImageTooLarge):
            read_page(io.BytesIO(bomb), 1, engine=FakeEngine())
    assert time.monotonic() - started < 5


def test_a_pdf_page_too_large_to_rasterise_is_refused():
    huge = blank_pdf(1, size=(14_400, 14_400))  # 200 × 200 inches
    with pytest.raises(ImageTooLarge) as raised:
        read_page(huge, 1, engine=FakeEngine())
    assert raised.value.size > raised.value.limit


def test_limits_are_settings():
    small = OcrLimits(max_pages=2, max_pixels=1_000_000, max_bytes=10_000)
    image = io.BytesIO()
    Image.new("L", (1200, 1000), 255).save(image, "PNG")
    with pytest.raises(ImageTooLarge):
        inspect_source(image.getvalue(), limits=small)
    with pytest.raises(TooManyPages):
        inspect_source(blank_pdf(3), limits=small)
    with pytest.raises(ImageTooLarge):
        inspect_source(b"%PDF-" + b"0" * 20_000, limits=small)
    with pytest.raises(ValueError):
        OcrLimits(max_pages=0)


def test_ocr_that_takes_too_long_times_out(tmp_path):
    path = tmp_path / "page.png"
    samples.payslip(random.Random(1)).image.save(path)
    with pytest.raises(OcrTimeout):
        read_page(path, 1, limits=OcrLimits(timeout_seconds=0.01))


def test_a_searchable_copy_that_takes_too_long_is_killed(scanned_certificate, tmp_path):
    path, _ = scanned_certificate
    target = tmp_path / "copy.pdf"
    started = time.monotonic()
    with pytest.raises(OcrTimeout):
        make_searchable_pdf(path, target, limits=OcrLimits(document_timeout_seconds=0.5))
    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []


def test_unreadable_inputs():
    for data in (b"", b"not a document at all", b"%PDF-1.7\n garbage"):
        with pytest.raises(UnreadableFile):
            inspect_source(data)
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(UnreadableFile):
        inspect_source(buffer.getvalue())
    with pytest.raises(UnreadableFile):
        read_page(blank_pdf(1), 2)


# ------------------------------------------------------------------ sources and engines


def test_paths_bytes_and_file_objects_are_sources(tmp_path):
    frames = [Image.new("L", (300 + 10 * n, 200), 255) for n in range(3)]
    path = tmp_path / "pages.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    data = path.read_bytes()
    for source in (path, str(path), data, io.BytesIO(data)):
        info = inspect_source(source)
        assert (info.kind, info.media_type, info.page_count) == ("image", "image/tiff", 3)
    engine = FakeEngine()
    document = read_document(path, engine=engine)
    assert engine.calls == [1, 2, 3]
    assert [p.width for p in document.pages] == [300, 310, 320]


def test_engine_registry():
    assert "tesseract" in available_engines()
    assert isinstance(get_engine("tesseract"), TesseractEngine)
    assert isinstance(get_engine("tesseract"), OcrEngine)
    with pytest.raises(EngineUnavailable):
        get_engine("no-such-engine")
    register_engine("fake", FakeEngine)
    assert isinstance(get_engine("fake"), FakeEngine)


def test_tesseract_runs_with_one_openmp_thread(tmp_path, monkeypatch):
    import pytesseract

    seen = tmp_path / "seen"
    fake = tmp_path / "tesseract"
    fake.write_text(
        "#!/bin/sh\n"
        # pytesseract asks for the version before its first page (run alone, this is first).
        'if [ "$1" = "--version" ]; then echo "tesseract 5.3.0"; exit 0; fi\n'
        f'echo "$OMP_THREAD_LIMIT" > {seen}\n'
        'printf "level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\t'
        'left\\ttop\\twidth\\theight\\tconf\\ttext\\n" > "$2.tsv"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(fake))
    monkeypatch.setenv("OMP_THREAD_LIMIT", "8")
    page = TesseractEngine().recognize(Image.new("L", (50, 40), 255))
    assert seen.read_text().strip() == "1"
    assert (page.width, page.height, page.words) == (50, 40, ())
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "missing"))
    with pytest.raises(EngineUnavailable):
        TesseractEngine().recognize(Image.new("L", (50, 40), 255))


def test_a_pdf_that_already_has_text_keeps_it_in_its_copy(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    document = fpdf.FPDF(format="A4", unit="mm")
    document.add_page()
    document.set_font("helvetica", size=12)
    document.text(20, 20, "Factura de Suministros Levante SL")
    source = tmp_path / "digital.pdf"
    source.write_bytes(bytes(document.output()))
    copy = make_searchable_pdf(source, tmp_path / "copy.pdf")
    assert not copy.pdfa
    assert "Suministros Levante" in PdfReader(copy.path).pages[0].extract_text()


def test_each_page_of_a_mixed_pdf_is_read_its_own_way():
    fpdf = pytest.importorskip("fpdf")
    digital = fpdf.FPDF(format="A4", unit="mm")
    digital.add_page()
    digital.set_font("helvetica", size=12)
    digital.text(20, 20, "Pagina generada con texto seleccionable")
    scan = io.BytesIO()
    Image.new("L", (2480, 3508), 255).save(scan, "PDF", resolution=300)
    writer = PdfWriter()
    writer.append(io.BytesIO(bytes(digital.output())))
    writer.append(scan)
    merged = io.BytesIO()
    writer.write(merged)
    engine = FakeEngine()
    document = read_document(merged.getvalue(), engine=engine)
    assert [page.method for page in document.pages] == ["text_layer", "ocr"]
    assert engine.calls == [2]
    assert "seleccionable" in document.pages[0].text and document.pages[1].text == "page2"
    assert "\f" in document.text


def test_a_line_whose_identifier_fails_its_check_is_read_again():
    from ocr.reread import doubtful_lines, reread_doubtful_lines

    words = [
        Word("CIF:", 95, (100, 500, 180, 540), "3.1.2"),
        Word("37/6334", 40, (200, 500, 360, 540), "3.1.2"),
        Word("78H", 60, (370, 500, 440, 540), "3.1.2"),
        Word("NIF:", 95, (1300, 500, 1380, 540), "3.1.2"),
        Word("03145307B", 90, (1400, 500, 1600, 540), "3.1.2"),
        Word("Salario", 95, (100, 700, 260, 740), "4.1.1"),
        Word("1.178,41", 95, (2000, 700, 2160, 740), "4.1.1"),
    ]
    page = PageText.from_words(1, words, 2480, 3508, dpi=300)
    assert doubtful_lines(page) == ["3.1.2"]

    class SecondOpinion:
        name = "second"

        def recognize(self, image, *, page_number=1, timeout_seconds=0, dpi=0):
            assert image.size == (1500 + 2 * 20, 40 + 2 * 20)  # the line and a margin
            line = [("CIF:", 0), ("J7633478H", 100), ("NIF:", 1200), ("03145307B", 1300)]
            found = [Word(t, 90, (20 + x, 20, 20 + x + 90, 60), "1.1.1") for t, x in line]
            return PageText.from_words(page_number, found, *image.size)

    reread = reread_doubtful_lines(page, Image.new("L", (2480, 3508), 255), SecondOpinion())
    assert reread.text.splitlines() == ["CIF: J7633478H NIF: 03145307B", "Salario 1.178,41"]
    assert reread.words[1].box == (200, 500, 290, 540) and reread.words[1].line_key == "3.1.2"
    assert [m.value for m in find_identifiers(reread)] == ["J7633478H", "03145307B"]


def _printed_line(text: str) -> tuple[Image.Image, PageText]:
    """A line printed at 300 dpi and tesseract's reading of it."""
    image = Image.new("L", (1400, 200), 255)
    from PIL import ImageDraw

    ImageDraw.Draw(image).text((60, 60), text, font=samples._font(48), fill=0)
    page = TesseractEngine().recognize(image, dpi=300)
    assert len(page.words) == 2 and page.words[0].text == text.split()[0], page.text
    return image, page


def _misread(page: PageText, wrong: str) -> PageText:
    """The page with its last word read as ``wrong`` (tesseract reads a Q after digits as 0)."""
    words = list(page.words)
    words[-1] = Word(wrong, words[-1].confidence, words[-1].box, words[-1].line_key)
    return PageText.from_words(page.number, words, page.width, page.height, method="ocr", dpi=300)


def test_a_check_letter_read_as_a_digit_is_read_again_alone():
    from ocr.reread import reread_check_letters

    image, page = _printed_line("NIF: 14946152Q")
    assert find_identifiers(_misread(page, "149461520")) == []  # no letter is invented
    reread = reread_check_letters(_misread(page, "149461520"), image, TesseractEngine())
    assert [m.value for m in find_identifiers(reread)] == ["14946152Q"]
    assert reread.words[-1].box == page.words[-1].box


def test_the_edge_of_the_digit_before_the_check_letter_does_not_hide_it():
    """The glyph is cut out a little wide, so the end of the 5 before the Z is read too ("IZ")."""
    from ocr.reread import reread_check_letters

    image, page = _printed_line("NIF: 40404045Z")
    reread = reread_check_letters(_misread(page, "404040452"), image, TesseractEngine())
    assert [m.value for m in find_identifiers(reread)] == ["40404045Z"]


def _corpus_scan(folder: Path, kind: str, seed: int) -> tuple[samples.SampleDocument, Path]:
    """The document of that kind and seed, scanned to a PNG, as tests/ocr/conftest.py makes
    each page of the corpus."""
    rng = random.Random(seed)
    document = getattr(samples, kind)(rng)
    path = folder / f"{kind}-{seed}.png"
    samples.degrade(document.image, rng).save(path, dpi=(300, 300), compress_level=1)
    return document, path


@pytest.mark.parametrize(
    ("kind", "seed", "code"),
    [
        ("payslip", 1932223643, "55153256S"),  # S read as 5; alone, with the 5's edge: "IS"
        ("payslip", 53401926, "10594756J"),  # J read as 3; alone, cut through the 6: nothing
        ("payslip", 2250896536, "C77976462"),  # C read as 0, which D, G and Q are read as too
        ("invoice", 509117192, "Q5623527H"),  # Q read as 0, and a space: "0562352 7H"
        ("bank_certificate", 3223090798, "97509512T"),  # T read as 7; alone: T, E, 1, Y
        ("payslip", 2584787099, "94061053T"),  # T read as 1; alone: T, F, E or 1
        ("invoice", 4195056104, "U8094646J"),  # 80 read as SO, and S is a 5 more often
        ("payslip", 2163120916, "J5727133J"),  # both Js read as 3: "357271333"
    ],
)
def test_scanned_documents_whose_letter_came_out_as_a_digit(tmp_path, kind, seed, code):
    """Generated scans (from OCR corpus seeds that once failed) read end to end."""
    document, path = _corpus_scan(tmp_path, kind, seed)
    assert code in document.identifiers
    page = ocr.pipeline.read_page(path, 1)
    assert code in [m.value for m in find_identifiers(page)], page.text


@pytest.mark.parametrize(
    "seed",
    [
        2305162754,  # 2.793,95 read 2.193,95 and 586,73 read 586,13: the totals balance once
        670379410,  # 2.793,95 read 2.193,95 and 586,73 read 586,/3
        1160828712,  # "6.999 94" and "1.469 99": the decimal commas read as spaces
        3390515383,  # "3.358, 94 €" under "Tota!"
    ],
)
def test_scanned_invoices_whose_amounts_came_out_wrong(tmp_path, seed):
    """Generated scans (from OCR corpus seeds that once failed) read end to end."""
    from ocr.forms import fill_form

    document, path = _corpus_scan(tmp_path, "invoice", seed)
    form = fill_form(document.template, [ocr.pipeline.read_page(path, 1)])
    expected = {name: document.expected[name] for name in ("base", "vat", "total")}
    assert {name: form[name].value for name in expected if name in form} == expected


def test_a_digit_that_still_reads_as_a_digit_or_follows_a_cif_label_stays():
    from ocr.reread import reread_check_letters

    # A printed 0 is read alone as 0 again: nothing is proposed.
    image, page = _printed_line("NIF: 149461520")
    assert reread_check_letters(page, image, TesseractEngine()).text == page.text
    # After "CIF" the code is a company's: no DNI is made out of it.
    image, page = _printed_line("CIF: 14946152Q")
    misread = _misread(page, "149461520")
    assert reread_check_letters(misread, image, TesseractEngine()).text == misread.text
