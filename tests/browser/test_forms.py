"""Forms filled from documents in a real browser: a payslip's form, each value beside its boxed place on the page."""

from __future__ import annotations

import io
import random

import ocr_samples as samples
import pytest
from PIL import Image
from portal_testing import DESKTOP, PASSWORD, PHONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_client_checks_corrects_and_confirms_a_payslip_form(
    app, world, live_server, browser, device
):
    from app.extensions import db
    from app.services import documents

    sample = samples.payslip(random.Random(11))
    out = io.BytesIO()
    sample.image.save(out, "PNG", dpi=(300, 300))
    out.seek(0)
    app.config["OCR_ON_UPLOAD"] = True
    document = documents.upload_document(
        world.client_a, world.space_a.id, out, filename="nomina.png", title="Nómina de marzo"
    )
    db.session.commit()  # read inline

    context = browser.new_context(**device, accept_downloads=True, locale="es-ES")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(world.client_a.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()

    page.goto(f"{live_server}/documents/{document.id}")
    assert "leído" in page.get_by_test_id("ocr-status").inner_text()
    page.get_by_label("Plantilla").select_option("datos_nomina")
    page.get_by_role("button", name="Rellenar formulario").click()

    iban = page.locator("[data-field=iban]")
    assert iban.get_by_role("textbox").input_value().replace(" ", "") == sample.expected["iban"]
    image = iban.get_by_role("img")
    image.scroll_into_view_if_needed()
    image.wait_for()
    page.wait_for_function(  # the page image, drawn server-side with the box, has loaded
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=60_000
    )

    png = page.request.get(live_server + image.get_attribute("src")).body()
    drawn = Image.open(io.BytesIO(png)).convert("RGB")
    reds = [c for _, c in drawn.getcolors(1 << 20) if c[0] > 150 and c[1] < 90 and c[2] < 90]
    assert reds  # the source box is drawn in red on the page image

    page.get_by_label("Trabajador", exact=True).fill("Ana Gil Soto")
    page.get_by_role("button", name="Confirmar datos").click()
    page.get_by_test_id("form-confirmed").wait_for()
    assert page.get_by_label("Trabajador", exact=True).input_value() == "Ana Gil Soto"
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    content = open(download.value.path(), encoding="utf-8").read()
    assert "Ana Gil Soto" in content
    context.close()
