"""Drag-and-drop uploads in headless Chromium: Uppy over tus with a progress bar per file,
pause and resume, resume after a dropped connection and after a page reload, retry of a
failed upload, and a photo from a phone's camera."""

from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from portal_testing import DESKTOP, IN_CI, PASSWORD, PHONE, build_world

pytestmark = pytest.mark.browser

BUNDLE = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor" / "uppy" / "uppy.min.js"
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def uppy_bundle() -> None:
    if not BUNDLE.is_file():
        if IN_CI:
            pytest.fail("app/static/vendor/uppy is missing: `make assets` copies it from npm")
        pytest.skip("run `make assets` for the Uppy bundle")


def _file(folder: Path, name: str, size: int, head: bytes = b"%PDF-1.7\n") -> tuple[Path, str]:
    data = head + random.Random(size).randbytes(size - len(head))
    path = folder / name
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def _login(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(lambda url: "/login" not in url)  # signed in


def _slow_network(context, page, bytes_per_second: int, cdp=None):  # type: ignore[no-untyped-def]
    """Throttle the page's uploads; returns the DevTools session, to change them later."""
    if cdp is None:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )
    return cdp


def _wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll a JavaScript expression from here (wait_for_function would need eval, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)


def _record_progress(page) -> None:
    _wait_until(page, "window.portalUploader !== undefined")
    page.evaluate(
        """() => {
            window.seenProgress = [];
            window.portalUploader.on('upload-progress', (file, p) => {
                if (p.bytesTotal) window.seenProgress.push(p.bytesUploaded / p.bytesTotal);
            });
        }"""
    )


def _wait_for_server_offset(at_least: int, timeout: float = 30.0) -> None:
    """Until the one upload under way has `at_least` bytes on the server."""
    from app.extensions import db
    from app.models import Upload
    from app.services.runtime import resumable

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        upload = db.session.query(Upload).one_or_none()
        if upload is not None and resumable().info(upload.id).offset >= at_least:
            return
        time.sleep(0.1)
    raise AssertionError(f"the server never had {at_least} bytes")


def _uploads_and_documents():
    from app.extensions import db
    from app.models import Document, Upload

    db.session.expire_all()
    return db.session.query(Upload).all(), db.session.query(Document).all()


def test_drag_and_drop_with_progress_pause_and_resume(app, live_server, browser, tmp_path):
    world = build_world()
    path, sha256 = _file(tmp_path, "Planos obra 3.pdf", 6 * MIB)
    context = browser.new_context(**DESKTOP, locale="es-ES")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(page, live_server, world.staff.email)
    page.goto(f"{live_server}/spaces/{world.space_a.id}")
    uploader = page.locator("[data-uploader]")
    uploader.wait_for()
    assert page.locator("[data-upload-fallback]").get_attribute("open") is None
    _record_progress(page)
    _slow_network(context, page, 1 * MIB)

    page.locator(".uppy-DragDrop-input").set_input_files(str(path))
    row = page.locator('.uploader-file[data-file="Planos obra 3.pdf"]')
    row.wait_for()
    _wait_until(page, "window.seenProgress.some(v => v > 0.1 && v < 0.6)")
    row.get_by_role("button", name="Pausar").click()
    assert row.get_attribute("data-state") == "paused"
    paused_at = page.evaluate("Math.max(...window.seenProgress)")
    page.wait_for_timeout(800)
    assert page.evaluate("Math.max(...window.seenProgress)") - paused_at < 0.2
    row.get_by_role("button", name="Reanudar").click()

    page.locator('.uploader-file[data-state="done"]').wait_for(timeout=60000)
    seen = page.evaluate("window.seenProgress")
    assert any(0 < value < 1 for value in seen)
    assert row.locator("progress").evaluate("p => p.value") == 100
    row.get_by_role("link", name="Abrir el documento").click()
    page.wait_for_url("**/documents/**")
    assert "Planos obra 3" in page.locator("h1").inner_text()
    uploads, documents = _uploads_and_documents()
    assert len(uploads) == 1
    created = [d for d in documents if d.title == "Planos obra 3.pdf"]
    assert len(created) == 1 and created[0].current_version.sha256 == sha256
    assert not [e for e in errors if "Content Security Policy" in e]
    context.close()


def test_upload_resumes_after_a_page_reload(app, live_server, browser, tmp_path):
    world = build_world()
    path, sha256 = _file(tmp_path, "video-obra.pdf", 8 * MIB)
    context = browser.new_context(**DESKTOP, locale="es-ES")
    page = context.new_page()
    _login(page, live_server, world.staff.email)
    page.goto(f"{live_server}/documents/{world.shared.id}")
    _record_progress(page)
    # Small PATCHes, so that the server holds part of the file when the page goes away.
    page.evaluate("() => window.portalUploader.getPlugin('Tus').setOptions({chunkSize: 1048576})")
    _slow_network(context, page, 2 * MIB)
    page.locator(".uppy-DragDrop-input").set_input_files(str(path))
    _wait_for_server_offset(3 * MIB)
    page.reload()  # the connection drops with the page

    _record_progress(page)
    page.locator(".uppy-DragDrop-input").set_input_files(str(path))  # the same file again
    page.locator('.uploader-file[data-state="done"]').wait_for(timeout=60000)
    assert min(page.evaluate("window.seenProgress")) >= 0.3  # it went on from where it was
    uploads, _ = _uploads_and_documents()
    assert len(uploads) == 1  # one tus upload, continued: not started again
    from app.extensions import db
    from app.models import Document

    document = db.session.get(Document, world.shared.id)
    assert document.current_version_number == 2
    assert document.current_version.sha256 == sha256
    context.close()


def test_upload_goes_on_by_itself_after_the_connection_drops(app, live_server, browser, tmp_path):
    world = build_world()
    path, sha256 = _file(tmp_path, "Plano cimentación.pdf", 6 * MIB)
    context = browser.new_context(**DESKTOP, locale="es-ES")
    page = context.new_page()
    _login(page, live_server, world.client_a.email)
    page.goto(f"{live_server}/spaces/{world.space_a.id}")
    _record_progress(page)
    page.evaluate("() => window.portalUploader.getPlugin('Tus').setOptions({chunkSize: 1048576})")
    cdp = _slow_network(context, page, 1 * MIB)
    page.locator(".uppy-DragDrop-input").set_input_files(str(path))
    _wait_for_server_offset(2 * MIB)

    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    status = page.locator("[data-uploader] [data-status]")
    expect(status).to_contain_text("Sin conexión")
    page.wait_for_timeout(1500)
    row = page.locator('.uploader-file[data-file="Plano cimentación.pdf"]')
    assert row.get_attribute("data-state") != "done"
    _slow_network(context, page, 4 * MIB, cdp)  # back online

    page.locator('.uploader-file[data-state="done"]').wait_for(timeout=60000)
    expect(status).not_to_contain_text("Sin conexión")
    uploads, documents = _uploads_and_documents()
    assert len(uploads) == 1  # the same tus upload went on
    created = [d for d in documents if d.title == "Plano cimentación.pdf"]
    assert len(created) == 1 and created[0].current_version.sha256 == sha256
    context.close()


def test_a_failed_upload_is_retried_with_its_button(app, live_server, browser, tmp_path):
    world = build_world()
    path, sha256 = _file(tmp_path, "Cuentas anuales 2025.pdf", 3 * MIB)
    context = browser.new_context(**DESKTOP, locale="es-ES")
    page = context.new_page()
    _login(page, live_server, world.client_a.email)
    page.goto(f"{live_server}/spaces/{world.space_a.id}")
    _wait_until(page, "window.portalUploader !== undefined")
    # No automatic retries here, so that the failure reaches the person at once.
    page.evaluate("() => window.portalUploader.getPlugin('Tus').setOptions({retryDelays: []})")

    def cut_patches(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.method == "PATCH":
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/uploads/**", cut_patches)
    page.locator(".uppy-DragDrop-input").set_input_files(str(path))
    failed = page.locator('.uploader-file[data-state="failed"]')
    failed.wait_for(timeout=30000)
    expect(failed).to_contain_text("No se ha podido subir")
    assert not [d for d in _uploads_and_documents()[1] if d.title == "Cuentas anuales 2025.pdf"]

    page.unroute("**/api/v1/uploads/**")
    failed.get_by_role("button", name="Reintentar").click()
    page.locator('.uploader-file[data-state="done"]').wait_for(timeout=30000)
    uploads, documents = _uploads_and_documents()
    assert len(uploads) == 1  # the retry went on with the same upload
    created = [d for d in documents if d.title == "Cuentas anuales 2025.pdf"]
    assert len(created) == 1 and created[0].current_version.sha256 == sha256
    context.close()


def test_photo_from_a_phone_camera(app, live_server, browser, tmp_path):
    world = build_world()
    photo, sha256 = _file(
        tmp_path, "IMG_0042.jpg", 300 * 1024, head=b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    )
    context = browser.new_context(**PHONE, locale="es-ES")
    page = context.new_page()
    _login(page, live_server, world.client_a.email)
    page.goto(f"{live_server}/spaces/{world.space_a.id}")
    camera = page.locator("[data-camera]")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"
    camera_button = page.locator(".uploader-camera")
    box = camera_button.bounding_box()
    assert box is not None and box["width"] <= PHONE["viewport"]["width"]
    camera.set_input_files(str(photo))
    page.locator('.uploader-file[data-state="done"]').wait_for(timeout=30000)
    _, documents = _uploads_and_documents()
    created = [d for d in documents if d.title == "IMG_0042.jpg"]
    assert len(created) == 1 and created[0].visibility == "shared"
    assert created[0].current_version.sha256 == sha256
    context.close()


def test_refused_type_shows_the_reason(app, live_server, browser, tmp_path):
    world = build_world()
    program, _ = _file(tmp_path, "factura.pdf", 20000, head=b"MZ\x90\x00")
    context = browser.new_context(**DESKTOP, locale="es-ES")
    page = context.new_page()
    _login(page, live_server, world.client_a.email)
    page.goto(f"{live_server}/spaces/{world.space_a.id}")
    page.locator(".uppy-DragDrop-input").set_input_files(str(program))
    failed = page.locator('.uploader-file[data-state="failed"]')
    failed.wait_for(timeout=30000)
    assert "no se admite (exe)" in failed.inner_text()
    assert failed.get_by_role("button", name="Reintentar").is_visible()
    _, documents = _uploads_and_documents()
    assert not [d for d in documents if d.title == "factura.pdf"]
    context.close()
