"""Three end-to-end journeys in headless Chromium, each from login to the finished job.

The firm's people and the client's people work in separate browser contexts, as on
separate devices: the client on a phone, the firm on a desktop; the law firm and the
construction journeys once more with everybody on a phone. Each step asserts what that
person sees.

1. Accountancy: the renta checklist, uploads from the client's phone, a payslip that fills
   a form, annual accounts signed by the client at B-LTA.
2. Law firm: a case space, a contract signed by the firm and then the client, an internal
   memo that the client never sees anywhere.
3. Construction: a transmittal of three plans; one approved, one "revisar y reenviar" with
   a pinned comment and a new version, one left unopened until its review is escalated.
"""

from __future__ import annotations

import email
import email.policy
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import ocr_samples as samples
import pyotp
import pytest
from playwright.sync_api import expect
from portal_signing import annual_accounts_pdf, next_totp
from portal_testing import (
    DESKTOP,
    PASSWORD,
    PHONE,
    enable_mfa,
    make_user,
    open_menu,
    pdf_bytes,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("signing_ready")]

SPLIT = {"firm": DESKTOP, "client": PHONE}
ALL_ON_PHONE = {"firm": PHONE, "client": PHONE}
DEVICES = pytest.mark.parametrize(
    "devices", [SPLIT, ALL_ON_PHONE], ids=["firm-desktop-client-phone", "all-on-phone"]
)
#: The accountancy journey reads a photo (OCR and a searchable copy) and signs at B-LTA: a
#: minute on a busy machine. It runs once, the firm on a desktop; the firm's pages on a
#: phone are walked by the two other journeys and by test_forms.py.
SPLIT_ONLY = pytest.mark.parametrize("devices", [SPLIT], ids=["firm-desktop-client-phone"])
#: Slow steps (OCR of a photo, B-LTA signing) on a busy machine.
STEP_TIMEOUT = 60_000


@pytest.fixture
def live_server_config() -> dict[str, Any]:
    """The portal as a firm runs it: every uploaded PDF or image is read (OCR) and indexed."""
    return {"OCR_ON_UPLOAD": True}


# ------------------------------------------------------------------ helpers


def _open(browser, device: dict[str, Any]):  # type: ignore[no-untyped-def]
    context = browser.new_context(**device, accept_downloads=True, locale="es-ES")
    context.set_default_timeout(STEP_TIMEOUT)
    return context, context.new_page()


def _login(page, base: str, user, otp_secret: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    if otp_secret:
        page.get_by_label("Código de verificación").fill(pyotp.TOTP(otp_secret).now())
        page.get_by_role("button", name="Verificar").click()
    page.get_by_role("heading", name=f"Hola, {user.name}").wait_for()


def _nav(page, name: str) -> None:  # type: ignore[no-untyped-def]
    open_menu(page)
    page.get_by_role("navigation", name="Menú principal").get_by_role(
        "link", name=name, exact=False
    ).first.click()


def _main(page) -> str:  # type: ignore[no-untyped-def]
    """The page's main text once the whole document is parsed (not only what shows first)."""
    page.wait_for_load_state("domcontentloaded")
    return page.locator("main").inner_text()


def _search(page, words: str) -> str:  # type: ignore[no-untyped-def]
    """Search from the header's box; the results page's text."""
    open_menu(page)
    page.locator("#header-q").fill(words)
    page.locator("#header-q").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    page.get_by_role("heading", name="Buscar en los documentos").wait_for()
    expect(page.locator("#search-q")).to_have_value(words, timeout=STEP_TIMEOUT)
    return _main(page)


def _fits_the_screen(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _use_plain_form(page) -> None:  # type: ignore[no-untyped-def]
    """Open the single-file form (title, visibility, note) under the drag-and-drop area."""
    page.wait_for_load_state("load")
    uploader = page.locator("[data-uploader]")
    if uploader.count():
        uploader.wait_for(state="visible")
    fallback = page.locator("[data-upload-fallback]")
    if fallback.count() and fallback.get_attribute("open") is None:
        fallback.locator("summary").click()
    page.locator("#up-title, #note").first.wait_for(state="visible")


def _mails(outbox: Path, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


def _text_of(message) -> str:  # type: ignore[no-untyped-def]
    return f"{message['Subject']}\n{message.get_body(preferencelist=('plain',)).get_content()}"


def _item(page, title: str):  # type: ignore[no-untyped-def]
    """One entry of a document request's checklist."""
    return page.get_by_test_id("item").filter(has=page.get_by_role("heading", name=title))


def _upload_to_item(page, title: str, path: Path) -> None:  # type: ignore[no-untyped-def]
    item = _item(page, title)
    item.get_by_label(f"Subir «{title}»").set_input_files(str(path))
    item.get_by_role("button", name=f"Subir {title}").click()
    page.get_by_text(f"Recibido: «{title}». ¡Gracias!").wait_for()


# ------------------------------------------------------------------ 1. accountancy


@SPLIT_ONLY
def test_accountancy_renta_payslip_form_and_annual_accounts_signed_at_b_lta(
    app, live_server, browser, tmp_path, devices
):
    from app.extensions import db
    from app.services import clients

    admin = make_user("admin", email="socia@asesoria.es", name="Socia")
    laura = make_user("staff", email="laura@asesoria.es", name="Laura Gómez")
    company = clients.create_client(admin, name="Ferretería Ruiz S.L.")
    ana = make_user("client", client_id=company.id, email="ana@ferreteria.es", name="Ana Ruiz")
    space = clients.create_space(admin, company.id, name="Ejercicio 2025", kind="fiscal_year")
    clients.add_member(admin, space.id, user_id=laura.id, permission="manage")
    clients.add_member(admin, space.id, user_id=ana.id, permission="contribute")
    db.session.commit()
    outbox = Path(app.config["OUTBOX_DIR"])

    dni, fiscal, bank = (tmp_path / name for name in ("dni.pdf", "datos.pdf", "banco.pdf"))
    dni.write_bytes(pdf_bytes("DNI Ana Ruiz"))
    fiscal.write_bytes(pdf_bytes("Datos fiscales 2025"))
    bank.write_bytes(pdf_bytes("Certificado bancario a 31 de diciembre"))
    payslip = samples.payslip(random.Random(11))
    photo = tmp_path / "nomina-diciembre.png"
    payslip.image.save(photo, "PNG", dpi=(300, 300))
    accounts = tmp_path / "cuentas-anuales-2025.pdf"
    accounts.write_bytes(annual_accounts_pdf(2))

    # Laura (the firm) sends the renta checklist
    firm_context, firm = _open(browser, devices["firm"])
    _login(firm, live_server, laura)
    firm.get_by_role("link", name="Ejercicio 2025").click()
    firm.get_by_role("link", name="Pedir documentos al cliente").click()
    firm.get_by_label("Plantilla").select_option("renta")
    firm.get_by_label("Título").fill("Renta 2025 de Ana Ruiz")
    firm.get_by_label("Fecha límite").fill((date.today() + timedelta(days=30)).isoformat())
    firm.get_by_role("button", name="Enviar solicitud").click()
    firm.get_by_text("Solicitud enviada al cliente.").wait_for()
    request_url = firm.url
    expect(firm.get_by_test_id("item")).to_have_count(8)

    # Ana is told by e-mail, and her home page lists what is missing
    assert any("Renta 2025 de Ana Ruiz" in _text_of(m) for m in _mails(outbox, ana.email))
    client_context, phone = _open(browser, devices["client"])
    _login(phone, live_server, ana)
    assert "DNI o NIE de los declarantes" in _main(phone)
    phone.get_by_role("link", name="Renta 2025 de Ana Ruiz").click()
    expect(phone.get_by_test_id("item")).to_have_count(8)

    # ... and sends it from her phone: three files, a photo of her payslip, one "no aplica"
    _upload_to_item(phone, "DNI o NIE de los declarantes", dni)
    _upload_to_item(phone, "Datos fiscales de la Agencia Tributaria", fiscal)
    _upload_to_item(phone, "Certificado de retenciones de la empresa", photo)
    _upload_to_item(phone, "Certificados bancarios a 31 de diciembre", bank)
    ibi = _item(phone, "Recibo del IBI de la vivienda")
    ibi.locator("summary").click()
    ibi.get_by_label("¿Por qué no aplica?").fill("Vivo de alquiler")
    ibi.get_by_role("button", name="Marcar «No aplica»").click()
    phone.get_by_text("Marcado como «No aplica».").wait_for()
    assert "1 de 5" in _main(phone)
    _fits_the_screen(phone)

    # Laura hears about it and accepts the four files
    _nav(firm, "Avisos")
    assert (
        "Ana Ruiz ha enviado «Certificado de retenciones de la empresa» para «Renta 2025 de Ana Ruiz»."
        in _main(firm)
    )
    firm.goto(request_url)
    accept = firm.get_by_role("button", name="Aceptar")
    for remaining in (3, 2, 1, 0):
        accept.first.click()
        expect(accept).to_have_count(remaining, timeout=STEP_TIMEOUT)
    assert "Completa" in _main(firm)
    phone.reload()
    assert "Completa" in _main(phone) and "5 de 5" in _main(phone)

    # the payslip fills the mortgage form; Laura checks it against the page and confirms
    firm.get_by_role("link", name="nomina-diciembre.png").click()
    assert "leído" in firm.get_by_test_id("ocr-status").inner_text()
    firm.get_by_label("Plantilla").select_option("datos_nomina")
    firm.get_by_role("button", name="Rellenar formulario").click()
    iban = firm.locator("[data-field=iban]").get_by_role("textbox")
    assert iban.input_value().replace(" ", "") == payslip.expected["iban"]
    nif = firm.locator("[data-field=worker_nif]").get_by_role("textbox")
    assert nif.input_value() == payslip.expected["worker_nif"]
    firm.get_by_role("button", name="Confirmar datos").click()
    firm.get_by_test_id("form-confirmed").wait_for()

    # the annual accounts go up and out for Ana's signature (B-LTA without asking)
    _nav(firm, "Inicio")
    firm.get_by_role("link", name="Ejercicio 2025").click()
    _use_plain_form(firm)
    firm.get_by_label("Archivo").set_input_files(str(accounts))
    firm.get_by_label("Título (opcional)").fill("Cuentas anuales 2025")
    firm.get_by_label("Categoría (opcional)").fill("Cuentas anuales")
    firm.get_by_role("button", name="Subir", exact=True).click()
    firm.get_by_role("heading", name="Cuentas anuales 2025").wait_for()
    firm.locator("#signatures summary", has_text="Solicitar firmas").click()
    firm.get_by_label("Primer firmante").select_option(label=f"Ana Ruiz <{ana.email}>")
    firm.get_by_role("button", name="Enviar a firmar").click()
    firm.get_by_text("Solicitud de firma enviada.").wait_for()
    assert "Nivel B-LTA" in _main(firm)
    signing_url = firm.url

    # Ana signs on her phone with a code sent by e-mail
    _nav(phone, "Pendiente de mí")
    phone.get_by_role("link", name="Cuentas anuales 2025").first.click()
    assert phone.url == signing_url
    phone.get_by_role("heading", name="Revise el documento").wait_for()
    phone.get_by_role("button", name="Enviarme un código por e-mail").click()
    phone.get_by_text("Le hemos enviado un código por e-mail.").wait_for()
    subjects = [str(m["Subject"]) for m in _mails(outbox, ana.email)]
    code = next(re.search(r"\d{6}", s).group(0) for s in reversed(subjects) if "código" in s)
    phone.get_by_label("Código de verificación").fill(code)
    phone.get_by_role("button", name="Firmar el documento").click()
    phone.get_by_text("Documento firmado.").wait_for()
    assert phone.get_by_test_id("request-status").inner_text() == "Firmado por todos"
    phone.get_by_role("link", name="Ver el informe de validación").click()
    assert phone.get_by_test_id("verdict").inner_text().startswith("Válido")
    assert phone.get_by_test_id("level").inner_text() == "B-LTA"
    assert "Ana Ruiz" in phone.get_by_test_id("signature").inner_text()
    _fits_the_screen(phone)

    # the firm's copy: signed by everyone, the signed PDF is the new current version
    firm.goto(signing_url)
    assert firm.get_by_test_id("request-status").inner_text() == "Firmado por todos"
    firm.get_by_role("link", name="Cuentas anuales 2025").first.click()
    expect(firm.locator("table.versions tbody tr")).to_have_count(2)
    assert "v2" in firm.locator("table.versions tr.current").inner_text()
    firm_context.close()
    client_context.close()


# ------------------------------------------------------------------ 2. law firm


@DEVICES
def test_law_firm_contract_signed_by_firm_then_client_and_a_memo_the_client_never_sees(
    app, live_server, browser, tmp_path, devices
):
    from app.services import clients

    admin = make_user("admin", email="socio@bufete.es", name="Socio")
    marta = make_user("staff", email="marta@bufete.es", name="Marta Lozano")
    company = clients.create_client(admin, name="Construcciones Martín S.L.")
    jorge = make_user("client", client_id=company.id, email="jorge@martin.es", name="Jorge Martín")
    marta_secret, jorge_secret = enable_mfa(marta), enable_mfa(jorge)
    outbox = Path(app.config["OUTBOX_DIR"])
    contract = tmp_path / "contrato.pdf"
    contract.write_bytes(annual_accounts_pdf(2, "Contrato de prestacion de servicios"))
    memo = tmp_path / "memo.pdf"
    memo.write_bytes(pdf_bytes("Estrategia: contrapropuesta de 18.000 euros"))

    # Marta opens the case space and lets Jorge in
    firm_context, firm = _open(browser, devices["firm"])
    _login(firm, live_server, marta, marta_secret)
    _nav(firm, "Clientes")
    firm.get_by_role("link", name="Construcciones Martín S.L.").click()
    firm.get_by_label("Nombre del espacio").fill("Reclamación 2026/031")
    firm.get_by_label("Tipo").select_option("case")
    firm.get_by_role("button", name="Crear espacio").click()
    firm.get_by_role("heading", name="Reclamación 2026/031").wait_for()
    space_url = firm.url
    firm.get_by_label("Persona").select_option(label=f"Jorge Martín <{jorge.email}>")
    firm.get_by_label("Permiso").select_option("contribute")
    firm.get_by_role("button", name="Dar acceso").click()
    firm.get_by_text("Permisos actualizados.").wait_for()

    # the contract for both to sign, and an internal memo with a note on it
    _use_plain_form(firm)
    firm.get_by_label("Archivo").set_input_files(str(contract))
    firm.get_by_label("Título (opcional)").fill("Contrato de prestación de servicios")
    firm.get_by_role("button", name="Subir", exact=True).click()
    firm.get_by_role("heading", name="Contrato de prestación de servicios").wait_for()
    contract_url = firm.url
    firm.goto(space_url)
    _use_plain_form(firm)
    firm.get_by_label("Archivo").set_input_files(str(memo))
    firm.get_by_label("Título (opcional)").fill("Memorando interno")
    firm.locator("#up-visibility").select_option("internal")
    firm.get_by_role("button", name="Subir", exact=True).click()
    firm.get_by_role("heading", name="Memorando interno").wait_for()
    memo_id = firm.url.rstrip("/").rsplit("/", 1)[1]
    firm.get_by_label("Nuevo comentario").fill("No enseñar al cliente hasta la vista")
    firm.get_by_role("button", name="Comentar").click()
    firm.get_by_text("Comentario publicado.").wait_for()
    assert "Memorando interno" in _search(firm, "contrapropuesta")

    # signatures: Marta first, then Jorge; Marta signs at once with her authenticator app
    firm.goto(contract_url)
    firm.locator("#signatures summary", has_text="Solicitar firmas").click()
    firm.get_by_label("Primer firmante").select_option(label=f"Marta Lozano <{marta.email}>")
    firm.get_by_label("Segundo firmante").select_option(label=f"Jorge Martín <{jorge.email}>")
    firm.get_by_role("button", name="Enviar a firmar").click()
    firm.get_by_text("Solicitud de firma enviada.").wait_for()
    signing_url = firm.url
    firm.get_by_role("heading", name="Revise el documento").wait_for()
    firm.get_by_label("Código de verificación").fill(next_totp(marta_secret))
    firm.get_by_role("button", name="Firmar el documento").click()
    firm.get_by_text("Documento firmado.").wait_for()
    assert firm.get_by_test_id("request-status").inner_text() == "En curso"

    # Jorge, on his phone, sees the contract and nothing of the memo
    client_context, phone = _open(browser, devices["client"])
    _login(phone, live_server, jorge, jorge_secret)
    assert "Memorando" not in phone.content()
    phone.get_by_role("link", name="Reclamación 2026/031").click()
    assert "Contrato de prestación de servicios" in _main(phone)
    assert "Memorando" not in phone.content() and memo_id not in phone.content()
    _fits_the_screen(phone)
    for words in ("contrapropuesta", "Memorando"):
        assert "Ningún documento contiene esas palabras." in _search(phone, words)
    _nav(phone, "Avisos")
    assert "Memorando" not in _main(phone) and "No enseñar" not in _main(phone)
    for path in (
        f"/documents/{memo_id}",
        f"/documents/{memo_id}/versions/1/download",
        f"/documents/{memo_id}/versions/1/view",
        f"/documents/{memo_id}/versions/1/raw",
        f"/signatures/documents/{memo_id}/versions/1/report",
    ):
        assert phone.request.get(live_server + path).status == 404, path
    answer = phone.goto(f"{live_server}/documents/{memo_id}")
    assert answer.status == 404 and "No encontrado" in _main(phone)

    # ... and signs second, after the firm
    _nav(phone, "Pendiente de mí")
    assert "Memorando" not in _main(phone)
    phone.get_by_role("link", name="Contrato de prestación de servicios").first.click()
    assert phone.url == signing_url
    phone.get_by_label("Código de verificación").fill(next_totp(jorge_secret))
    phone.get_by_role("button", name="Firmar el documento").click()
    phone.get_by_text("Documento firmado.").wait_for()
    assert phone.get_by_test_id("request-status").inner_text() == "Firmado por todos"
    signers = phone.get_by_test_id("signers").locator("li")
    assert "Marta Lozano" in signers.nth(0).inner_text()
    assert "Jorge Martín" in signers.nth(1).inner_text()
    phone.get_by_role("link", name="Ver el informe de validación").click()
    assert phone.get_by_test_id("verdict").inner_text().startswith("Válido")
    signatures = phone.get_by_test_id("signature")
    expect(signatures).to_have_count(2)
    assert "Marta Lozano" in signatures.nth(0).inner_text()
    assert "Jorge Martín" in signatures.nth(1).inner_text()
    _fits_the_screen(phone)
    assert not [m for m in _mails(outbox, jorge.email) if "Memorando" in _text_of(m)]

    # the firm sees the finished contract; the memo is still there for the firm
    firm.goto(signing_url)
    assert firm.get_by_test_id("request-status").inner_text() == "Firmado por todos"
    firm.goto(space_url)
    assert "Memorando interno" in _main(firm)
    firm_context.close()
    client_context.close()


# ------------------------------------------------------------------ 3. construction


def _upload_plans(page, plans: list[Path]) -> None:  # type: ignore[no-untyped-def]
    """Drop the plans on the uploader at once (or, without its bundle, one by one)."""
    page.wait_for_load_state("load")
    uploader = page.locator("[data-uploader]")
    if uploader.count():
        uploader.wait_for(state="visible")
        page.locator(".uppy-DragDrop-input").set_input_files([str(p) for p in plans])
        expect(page.locator('.uploader-file[data-state="done"]')).to_have_count(
            len(plans), timeout=STEP_TIMEOUT
        )
        page.get_by_role("link", name="Todo subido. Actualizar la lista").click()
        return
    for plan in plans:
        page.get_by_label("Archivo").set_input_files(str(plan))
        page.get_by_label("Título (opcional)").fill(plan.name)
        page.get_by_role("button", name="Subir", exact=True).click()
        page.get_by_role("heading", name=plan.name).wait_for()
        page.locator(".crumbs a").click()


def _pin_a_comment(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name="Ver y comentar en el navegador").click()
    page.locator('#pdf-viewer[data-ready="true"]').wait_for()
    sheet = page.locator("#pdf-viewer .pdf-page").first
    box = sheet.bounding_box()
    sheet.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
    assert page.get_by_role("textbox", name="Página").input_value() == "1"
    page.get_by_label("Comentario", exact=True).fill(text)
    page.get_by_role("button", name="Publicar comentario").click()
    page.get_by_text("Comentario publicado.").wait_for()
    page.locator('#pdf-viewer[data-ready="true"]').wait_for()
    expect(page.get_by_test_id("pin")).to_have_count(1, timeout=STEP_TIMEOUT)


@DEVICES
def test_construction_transmittal_of_three_plans_with_resubmission_and_escalation(
    app, live_server, browser, tmp_path, devices
):
    from app.extensions import db
    from app.services import alerts, clients

    admin = make_user("admin", email="direccion@estudio.es", name="Dirección")
    pablo = make_user("staff", email="pablo@estudio.es", name="Pablo Ferrer")
    owner = clients.create_client(admin, name="Promociones Levante S.A.")
    irene = make_user("client", client_id=owner.id, email="irene@levante.es", name="Irene Sanz")
    space = clients.create_space(admin, owner.id, name="Residencial Las Dunas", kind="project")
    clients.add_member(admin, space.id, user_id=pablo.id, permission="manage")
    clients.add_member(admin, space.id, user_id=irene.id, permission="contribute")
    db.session.commit()
    names = ("A-101 Planta baja.pdf", "A-102 Alzados.pdf", "A-103 Secciones.pdf")
    plans = []
    for name in names:
        plans.append(tmp_path / name)
        plans[-1].write_bytes(pdf_bytes(name.removesuffix(".pdf")))
    revised = tmp_path / "A-102 Alzados rev B.pdf"
    revised.write_bytes(pdf_bytes("A-102 Alzados rev B"))
    plan_1, plan_2, plan_3 = names

    # Pablo sets the space up for Procore-style answers and a review deadline, uploads the plans
    firm_context, firm = _open(browser, devices["firm"])
    _login(firm, live_server, pablo)
    firm.get_by_role("link", name="Residencial Las Dunas").click()
    space_url = firm.url
    firm.get_by_label("Respuestas de revisión").select_option("procore")
    firm.get_by_label("Días para leer").fill("2")
    firm.get_by_label("Días para decidir").fill("5")
    firm.get_by_role("button", name="Guardar ajustes de revisión").click()
    firm.get_by_text("Ajustes de revisión guardados.").wait_for()
    _upload_plans(firm, plans)
    for name in names:
        firm.get_by_role("link", name=name).wait_for()

    # ... and sends them to Irene in one transmittal
    firm.get_by_role("link", name="Nueva remisión para revisión").click()
    firm.get_by_label("Documentos", exact=True).select_option(label=[f"{n} (v1)" for n in names])
    firm.get_by_label("Destinatarios").select_option(label=f"Irene Sanz <{irene.email}>")
    firm.get_by_label("Fecha límite").fill((date.today() + timedelta(days=7)).isoformat())
    firm.get_by_label("Mensaje", exact=True).fill("Planos de la fase 1 para su revisión.")
    firm.get_by_role("button", name="Enviar remisión").click()
    firm.get_by_text("Remisión enviada.").wait_for()
    transmittal_url = firm.url
    rows = firm.locator("table.transmittal tbody tr")
    expect(rows).to_have_count(3)
    assert all("Sin abrir" in text for text in rows.all_inner_texts())

    # Irene, on site with her phone, opens the transmittal from her notifications
    client_context, phone = _open(browser, devices["client"])
    _login(phone, live_server, irene)
    _nav(phone, "Avisos")
    phone.get_by_role("link", name=re.compile(r"Remisión .*: 3 documentos para revisar")).click()
    assert "Planos de la fase 1 para su revisión." in _main(phone)
    _fits_the_screen(phone)

    # approved
    phone.get_by_role("link", name=plan_1).click()
    phone.get_by_role("button", name="Aprobado", exact=True).click()
    phone.get_by_text("Revisión registrada.").wait_for()
    assert "Versión 1: Aprobado" in phone.locator("#review").inner_text()  # the space's words

    # a comment pinned on the drawing, then "revisar y reenviar"
    phone.goto(transmittal_url)
    phone.get_by_role("link", name=plan_2).click()
    _pin_a_comment(phone, "Falta la cota del muro de contención")
    phone.locator(".crumbs a").click()
    phone.get_by_label("Comentario (obligatorio si pide cambios)").fill("Acoten el muro y reenvíen")
    phone.get_by_role("button", name="Revisar y reenviar").click()
    phone.get_by_text("Revisión registrada.").wait_for()
    decided = phone.locator("#review").inner_text()
    assert "Devuelto (Revisar y reenviar)" in decided
    assert "Acoten el muro y reenvíen" in decided
    _fits_the_screen(phone)

    # Pablo sees who opened what and what was answered
    firm.goto(transmittal_url)
    cells = {name: firm.locator("tr", has_text=name).inner_text() for name in names}
    assert "Aprobado" in cells[plan_1] and "Abierto" in cells[plan_1]
    assert "Devuelto" in cells[plan_2]
    assert "Sin abrir" in cells[plan_3] and "Pendiente de respuesta" in cells[plan_3]
    _nav(firm, "Avisos")
    assert f"«{plan_2}» v1: con cambios solicitados por Irene Sanz." in _main(firm)

    # ... reads the pinned comment where Irene put it, and uploads revision B
    firm.get_by_role("link", name=re.compile(f"«{plan_2}» v1: con cambios")).click()
    comments = firm.locator("#comments").inner_text()
    assert "Falta la cota del muro de contención" in comments and "pág. 1" in comments
    firm.get_by_role("link", name="Ver y comentar en el navegador").click()
    firm.locator('#pdf-viewer[data-ready="true"]').wait_for()
    expect(firm.get_by_test_id("pin")).to_have_count(1, timeout=STEP_TIMEOUT)
    firm.locator(".crumbs a").click()
    _use_plain_form(firm)
    firm.get_by_label("Archivo").set_input_files(str(revised))
    firm.get_by_label("Qué cambia (opcional)").fill("Cota del muro añadida")
    firm.get_by_role("button", name="Subir versión").click()
    firm.get_by_text("Nueva versión subida.").wait_for()
    assert "Versión 2: Pendiente de respuesta" in firm.locator("#review").inner_text()

    # Irene is told, and approves revision B
    _nav(phone, "Avisos")
    phone.get_by_role("link", name=f"Nuevo documento para revisar: «{plan_2}» (v2).").click()
    assert "Cota del muro añadida" in _main(phone)
    phone.get_by_role("button", name="Aprobado", exact=True).click()
    phone.get_by_text("Revisión registrada.").wait_for()
    assert "Versión 2: Aprobado" in phone.locator("#review").inner_text()

    # A-103 is never opened. The alert sweep (every 15 minutes) runs here at later times:
    # nothing is late today; after 3 days Irene is reminded; after 5 Pablo hears of it.
    assert alerts.sweep() == 0
    alerts.sweep(now=datetime.now(UTC) + timedelta(days=3))
    db.session.commit()
    _nav(firm, "Avisos")
    assert plan_3 not in _main(firm)
    alerts.sweep(now=datetime.now(UTC) + timedelta(days=5))
    db.session.commit()
    firm.reload()
    late = firm.locator("section", has=firm.get_by_role("heading", name="Atrasado"))
    assert plan_3 in late.inner_text() and "escalado" in late.inner_text()
    assert plan_1 not in late.inner_text() and plan_2 not in late.inner_text()
    assert f"Escalado: «{plan_3}» lleva demasiado tiempo sin revisar." in _main(firm)
    _nav(firm, "Resumen")
    assert f"{plan_3} (escalado)" in _main(firm)

    # Irene gets the reminder that it waits for her (the escalation itself goes to the firm)
    _nav(phone, "Avisos")
    assert f"Pendiente: «{plan_3}» espera su revisión desde hace días." in _main(phone)
    assert "Escalado" not in _main(phone)
    _fits_the_screen(phone)
    phone.goto(space_url)
    assert "Residencial Las Dunas" in _main(phone)
    firm_context.close()
    client_context.close()
