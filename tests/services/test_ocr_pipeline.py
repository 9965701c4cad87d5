"""The OCR pipeline of uploaded versions: results, limits, redelivery, searchable copies, search."""

from __future__ import annotations

import io
import random
import struct
import zlib

import ocr_samples as samples
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw
from portal_testing import BACKEND

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def ocr_on(app):
    app.config["OCR_ON_UPLOAD"] = True
    return app


def small_page(words: str) -> bytes:
    """A short printed line at 300 dpi: quick to OCR."""
    font = samples._font(48)
    image = Image.new("L", (1400, 220), 255)
    ImageDraw.Draw(image).text((60, 70), words, font=font, fill=0)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(300, 300))
    return out.getvalue()


def scanned_pdf(words: str) -> bytes:
    """A PDF holding only a page image, as a scanner makes it: no text layer."""
    font = samples._font(60)
    image = Image.new("L", (2480 // 2, 3508 // 4), 255)
    ImageDraw.Draw(image).text((120, 200), words, font=font, fill=0)
    out = io.BytesIO()
    image.save(out, "PDF", resolution=300)
    return out.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims 10 gigapixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def many_pages_pdf(pages: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(200, 200)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def text_pdf(pages: list[str]) -> bytes:
    """A PDF with a text layer: one page per entry of ``pages``."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=14)
    for words in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, f"{words}\n" + "Texto de la pagina. " * 20)
    return bytes(pdf.output())


def upload(world, data: bytes, filename: str, *, user=None, title: str | None = None, **kwargs):
    from app.extensions import db
    from app.services import documents

    document = documents.upload_document(
        user or world.client_a,
        world.space_a.id,
        io.BytesIO(data),
        filename=filename,
        title=title or filename,
        **kwargs,
    )
    db.session.commit()  # the OCR job runs inline after the commit
    return document


def result_of(document):
    from app.services import ocr as ocr_service

    return ocr_service.result_for(document.current_version.id)


def test_a_short_image_is_read_once_and_indexed(ocr_on, world):
    from app.services import search

    document = upload(world, small_page("Recibo del alquiler de Zurbarán"), "recibo.png")
    result = result_of(document)
    assert result.status == "done", (result.error, result.error_detail)
    assert result.page_count == 1 and len(result.pages) == 1
    assert "Zurbar" in result.text
    assert result.engine_version.startswith("tesseract")
    assert result.pages[0]["words"] and result.pages[0]["words"][0]["box"]
    hits = search.search_documents(world.client_a, "zurbaran")  # accents do not matter
    assert [hit.document.id for hit in hits] == [document.id]
    assert any(matched for _, matched in hits[0].parts)


def test_the_decompression_bomb_and_the_5000_page_pdf_end_with_a_clear_status(ocr_on, world):
    bomb = upload(world, png_bomb(), "bomba.png")
    assert (result_of(bomb).status, result_of(bomb).error) == ("failed", "image_too_large")
    thick = upload(world, many_pages_pdf(5000), "tocho.pdf")
    assert (result_of(thick).status, result_of(thick).error) == ("failed", "too_many_pages")
    assert result_of(thick).pages == []


def test_an_unreadable_file_ends_failed_and_other_files_are_not_read(ocr_on, world):
    broken = upload(world, b"%PDF-1.4 roto", "roto.pdf")
    assert (result_of(broken).status, result_of(broken).error) == ("failed", "unreadable_file")
    assert result_of(world.internal) is None  # a text file: only its title is indexed


def test_drawings_and_vector_images_are_not_read_as_scans(ocr_on, world):
    dxf = b"0\nSECTION\n2\nENTITIES\n0\nTEXT\n1\nPLANTA BAJA\n0\nENDSEC\n0\nEOF\n"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><text x="1" y="9">Alzado</text></svg>'
    from app.services import settings

    settings.update_setting(world.admin, "upload_allowed_types", ["dxf", "svg", "png", "jpg"])
    for data, name in ((dxf, "planta.dxf"), (svg, "alzado.svg")):
        document = upload(world, data, name)
        assert document.current_version.content_type.startswith("image/")
        assert result_of(document) is None  # nothing read, so nothing "failed"
    photo = upload(world, small_page("Factura de Alcorcón"), "foto.jpg")
    assert result_of(photo) is not None  # a photo is still read (PNG bytes named .jpg)


def test_a_worker_killed_mid_ocr_leaves_exactly_one_result_after_redelivery(
    app, world, monkeypatch
):
    import ocr
    from app.extensions import db
    from app.models import OcrResult
    from app.tasks import ocr as ocr_tasks

    app.config["OCR_ON_UPLOAD"] = False
    app.config["OCR_CHECKPOINT_SECONDS"] = 0  # every step is committed as it ends
    document = upload(world, small_page("Escritura de Villalobos"), "escritura.png")
    version_id = document.current_version.id
    real_read_page = ocr.read_page

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("worker killed")  # not an Exception: nothing catches it

    monkeypatch.setattr(ocr, "read_page", killed)
    with pytest.raises(KeyboardInterrupt):
        ocr_tasks.ocr_version.run(version_id)
    db.session.rollback()
    first = db.session.query(OcrResult).filter_by(version_id=version_id).one()
    # The inspect step was committed before the worker died.
    assert (first.status, first.page_count, first.pages) == ("running", 1, [])

    monkeypatch.setattr(ocr, "read_page", real_read_page)
    assert ocr_tasks.ocr_version.run(version_id) == "done"  # the redelivery
    assert ocr_tasks.ocr_version.run(version_id) == "done"  # and a duplicate does nothing
    rows = db.session.query(OcrResult).filter_by(version_id=version_id).all()
    assert len(rows) == 1
    assert rows[0].status == "done" and rows[0].attempts == 2 and len(rows[0].pages) == 1
    assert "Villalobos" in rows[0].text


def test_quick_steps_are_committed_together_and_a_crash_repeats_only_them(app, world, monkeypatch):
    """A text-layer PDF is read in a few milliseconds: its steps share one commit."""
    import ocr
    from app.extensions import db
    from app.models import OcrResult
    from app.tasks import ocr as ocr_tasks

    app.config["OCR_ON_UPLOAD"] = False
    document = upload(world, text_pdf(["Acta primera", "Acta segunda", "Acta tercera"]), "acta.pdf")
    version_id = document.current_version.id
    real_read_page = ocr.read_page
    calls = []

    def dies_on_the_last_page(source, number, **kwargs):
        calls.append(number)
        if number == 3 and len(calls) == 3:
            raise KeyboardInterrupt("worker killed")
        return real_read_page(source, number, **kwargs)

    monkeypatch.setattr(ocr, "read_page", dies_on_the_last_page)
    with pytest.raises(KeyboardInterrupt):
        ocr_tasks.ocr_version.run(version_id)
    db.session.rollback()
    first = db.session.query(OcrResult).filter_by(version_id=version_id).one()
    # Only the claim was committed: the two quick pages read before the crash are read again.
    assert (first.status, first.attempts, first.page_count, first.pages) == ("running", 1, None, [])
    assert ocr_tasks.ocr_version.run(version_id) == "done"
    assert calls == [1, 2, 3, 1, 2, 3]
    result = db.session.query(OcrResult).filter_by(version_id=version_id).one()
    assert result.attempts == 2 and [page["number"] for page in result.pages] == [1, 2, 3]
    assert {page["method"] for page in result.pages} == {"text_layer"}
    assert "Acta segunda" in result.text


def test_an_ocr_whose_worker_died_is_sent_again_and_ends_with_one_result(app, world):
    from datetime import timedelta

    from app.extensions import db
    from app.models import OcrResult
    from app.models.base import utcnow
    from app.services import ocr as ocr_service

    app.config["OCR_ON_UPLOAD"] = False
    document = upload(world, small_page("Testamento de Peñaranda"), "testamento.png")
    version_id = document.current_version.id
    # A worker claimed the job and died; the embedded broker has no copy of it left.
    ocr_service.claim(version_id)
    db.session.commit()
    assert ocr_service.resume_stalled() == 0  # its step may still be running
    assert ocr_service.resume_stalled(utcnow() + timedelta(minutes=30)) == 0
    db.session.commit()

    later = utcnow() + ocr_service.stalled_after() + timedelta(minutes=1)
    assert ocr_service.resume_stalled(later) == 1
    db.session.commit()  # the job goes out, and runs inline in tests
    rows = db.session.query(OcrResult).filter_by(version_id=version_id).all()
    assert len(rows) == 1 and rows[0].status == "done" and rows[0].attempts == 2
    assert "Peñaranda" in rows[0].text
    assert ocr_service.resume_stalled(later) == 0


def test_a_scanned_pdf_gets_a_searchable_copy_beside_the_original(ocr_on, world):
    from app.services import search
    from app.services.runtime import store

    scan = scanned_pdf("Certificado de Valdemoro")
    document = upload(world, scan, "escaneo.pdf")
    result = result_of(document)
    assert result.status == "done", (result.error, result.error_detail)
    version = document.current_version
    assert result.searchable_blob_key and result.searchable_blob_key != version.blob_key
    original = b"".join(store().open_range(version.blob_key))
    assert original == scan  # the original is untouched
    copy = pdfium.PdfDocument(b"".join(store().open_range(result.searchable_blob_key)))
    try:
        page = copy[0]
        layer = page.get_textpage().get_text_range()
    finally:
        copy.close()
    assert "Valdemoro" in layer
    assert [hit.document.id for hit in search.search_documents(world.staff, "Valdemoro")] == [
        document.id
    ]


def stored_blobs() -> set[str]:
    """Keys of every blob in the test's filesystem store (uploads in progress aside)."""
    from app.services.runtime import store

    root = store().root
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not path.relative_to(root).parts[0].startswith(".")
    }


def uploads_in_progress() -> list[str]:
    from app.services.runtime import store

    return [path.name for path in (store().root / ".uploads").glob("*")]


@pytest.mark.parametrize("crash", ["after_writing", "while_writing"])
def test_a_crash_while_storing_the_searchable_copy_leaves_no_orphan(app, world, monkeypatch, crash):
    from app.extensions import db
    from app.models import OcrResult
    from app.services.runtime import resumable
    from app.tasks import ocr as ocr_tasks

    app.config["OCR_ON_UPLOAD"] = False
    document = upload(world, scanned_pdf("Acta de Torrelaguna"), "acta.pdf")
    version = document.current_version
    before = stored_blobs()
    uploads = type(resumable())
    real_finish, real_append = uploads.finish, uploads.append

    def finish_then_die(self, upload_id):
        real_finish(self, upload_id)  # the copy is in the store, its key not yet recorded
        raise KeyboardInterrupt("worker killed")

    def die_half_way(self, upload_id, offset, stream, **kwargs):
        half = io.BytesIO(stream.read()[:5000])
        try:
            real_append(self, upload_id, offset, half)  # no length: the upload stays open
        finally:
            raise KeyboardInterrupt("worker killed")

    if crash == "after_writing":
        monkeypatch.setattr(uploads, "finish", finish_then_die)
    else:
        monkeypatch.setattr(uploads, "append", die_half_way)
    with pytest.raises(KeyboardInterrupt):
        ocr_tasks.ocr_version.run(version.id)
    db.session.rollback()
    if crash == "after_writing":
        assert len(stored_blobs() - before) == 1  # the orphan-to-be
    else:
        assert stored_blobs() == before and uploads_in_progress()
    monkeypatch.undo()

    assert ocr_tasks.ocr_version.run(version.id) == "done"  # the redelivery
    result = db.session.query(OcrResult).filter_by(version_id=version.id).one()
    added = stored_blobs() - before
    # Exactly one copy in the store, and it is the one the result points at.
    assert added == {result.searchable_blob_key}
    assert result.searchable_upload_id is None and uploads_in_progress() == []
    copy = pdfium.PdfDocument(b"".join(store_bytes(result.searchable_blob_key)))
    try:
        assert "Torrelaguna" in copy[0].get_textpage().get_text_range()
    finally:
        copy.close()


def store_bytes(key: str):
    from app.services.runtime import store

    return store().open_range(key)


def test_search_never_leaks_across_clients_or_internal_documents(world):
    from app.extensions import db
    from app.services import search

    search.index_document(world.shared, body="Cláusula de arrendamiento Quintanilla")
    search.index_document(world.internal, body="Estrategia interna Quintanilla")
    search.index_document(world.other_doc, body="Factura del cliente B Quintanilla")
    db.session.commit()

    def found(user) -> set[str]:
        return {hit.document.id for hit in search.search_documents(user, "quintanilla")}

    assert found(world.admin) == {world.shared.id, world.internal.id, world.other_doc.id}
    assert found(world.staff) == {world.shared.id, world.internal.id}
    assert found(world.outsider) == set()
    assert found(world.client_a) == {world.shared.id}
    assert found(world.client_b) == {world.other_doc.id}
    # Titles are searched too, with the same rules.
    assert {h.document.id for h in search.search_documents(world.client_a, "Memo")} == set()
    assert {h.document.id for h in search.search_documents(world.staff, "Memo")} == {
        world.internal.id
    }
    assert search.search_documents(world.client_a, "") == []
    assert search.search_documents(world.client_a, '" OR * NEAR(') == []  # no syntax errors


def test_search_backend_is_the_requested_one(app):
    from app.extensions import db

    assert db.engine.dialect.name == ("postgresql" if BACKEND == "postgres" else "sqlite")


def test_a_generated_payslip_fills_datos_nomina_with_boxes(ocr_on, world):
    from app.services import forms

    sample = samples.payslip(random.Random(61))
    out = io.BytesIO()
    sample.image.save(out, "PNG", dpi=(300, 300))
    document = upload(world, out.getvalue(), "nomina.png", title="Nómina")
    assert result_of(document).status == "done"
    form = forms.create_form(
        world.client_a, world.space_a.id, template="datos_nomina", document_id=document.id
    )
    assert form.status == "draft"
    for name in ("employer_cif", "worker_nif", "iban"):
        if name in sample.expected:
            assert form.fields[name]["value"].replace(" ", "") == sample.expected[name].replace(
                " ", ""
            )
            x0, y0, x1, y1 = form.fields[name]["box"]
            assert 0 <= x0 < x1 and 0 <= y0 < y1 and form.fields[name]["page"] == 1


def test_one_job_draws_the_thumbnail_and_reads_the_text_and_a_redelivery_makes_no_second(
    app, world, monkeypatch
):
    """What the broker gets for a new version when both were queued by its upload's commit."""
    import ocr
    from app.extensions import db
    from app.models import DocumentPreview, OcrResult
    from app.services import search
    from app.services.runtime import store
    from app.tasks import ocr as ocr_tasks

    sent = []
    app.config["OCR_ON_UPLOAD"] = app.config["PREVIEWS_ON_UPLOAD"] = True
    app.extensions["portal_job_runner"] = lambda name, *args: sent.append((name, args))
    document = upload(world, text_pdf(["Acta de replanteo de Calatayud"]), "acta.pdf")
    version_id = document.current_version.id
    assert ("portal.ocr_version", (version_id,)) in sent  # (a test's runner sees each job)
    assert ("portal.render_preview", (version_id, "thumbnail")) in sent

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("worker killed")

    real_read_page = ocr.read_page
    monkeypatch.setattr(ocr, "read_page", killed)
    with pytest.raises(KeyboardInterrupt):
        ocr_tasks.process_version.run(version_id, ["thumbnail"])
    db.session.rollback()
    # The thumbnail was kept although the worker died while reading.
    thumbnail = db.session.query(DocumentPreview).filter_by(version_id=version_id).one()
    assert (thumbnail.status, thumbnail.attempts) == ("ready", 1)
    drawn = thumbnail.blob_key
    assert store().exists(drawn)

    monkeypatch.setattr(ocr, "read_page", real_read_page)
    assert ocr_tasks.process_version.run(version_id, ["thumbnail"]) == "done"  # redelivered
    assert ocr_tasks.process_version.run(version_id, ["thumbnail"]) == "done"  # twice
    previews = db.session.query(DocumentPreview).filter_by(version_id=version_id).all()
    assert [(p.status, p.blob_key, p.attempts) for p in previews] == [("ready", drawn, 1)]
    results = db.session.query(OcrResult).filter_by(version_id=version_id).all()
    assert len(results) == 1 and results[0].status == "done" and results[0].attempts == 2
    hits = search.search_documents(world.client_a, "Calatayud")
    assert [hit.document.id for hit in hits] == [document.id]


def test_the_commit_sends_one_job_per_new_version_to_the_broker():
    from app.services.runtime import _one_job_per_version

    jobs = [
        ("portal.ocr_version", ("v1",)),
        ("portal.render_preview", ("v1", "thumbnail")),
        ("portal.deliver_mail", ()),
        ("portal.render_preview", ("v2", "thumbnail")),  # an image without OCR on upload
        ("portal.ocr_version", ("v3",)),  # a scan whose thumbnail was drawn already
        ("portal.render_preview", ("v1", "page-2")),
    ]
    assert _one_job_per_version(jobs) == [
        ("portal.process_version", ("v1", ["thumbnail", "page-2"])),
        ("portal.deliver_mail", ()),
        ("portal.render_preview", ("v2", "thumbnail")),
        ("portal.ocr_version", ("v3",)),
    ]
    assert _one_job_per_version(jobs[2:5]) == jobs[2:5]
