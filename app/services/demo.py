"""A demo firm for ``portal demo``: what a firm trying the portal should see on its first login.

A law firm and an accountancy's work side by side: two companies and a person as clients,
their spaces and documents (one internal), a document request waiting for the client, a
conversation with a question answered and a staff-only note, an incident, client tags, a renta
campaign for the clients tagged ``renta`` and a new client's onboarding waiting on their
invitation. Made through the same services the pages call; the caller commits.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from sqlalchemy import func, select

from app.extensions import db
from app.models import Client, User
from app.services import (
    accounts,
    campaigns,
    clients,
    conversations,
    documents,
    incidents,
    onboarding,
    requests,
)
from app.services.errors import DomainError

ADMIN_EMAIL = "admin@demo.local"
ADMIN_PASSWORD = "demo-admin-2026"  # noqa: S105 - demo data
STAFF_EMAIL = "laura@despacho.demo"
STAFF_PASSWORD = "demo-staff-2026"  # noqa: S105 - demo data
CLIENT_EMAIL = "ana@petrolera.demo"
CLIENT_PASSWORD = "demo-client-2026"  # noqa: S105 - demo data
PERSON_EMAIL = "marta@correo.demo"
PERSON_PASSWORD = "demo-marta-2026"  # noqa: S105 - demo data


class NotEmpty(DomainError):
    status = 409
    title = "Conflict"


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    who: str


def fill(today: date) -> list[Login]:
    """Make the demo firm in an empty portal; the logins to try it with, staff first.

    Raises NotEmpty when the portal already has clients (a demo never mixes with real work).
    """
    if db.session.execute(select(func.count(Client.id))).scalar_one():
        raise NotEmpty(_("El portal ya tiene clientes; no se añade nada."))
    logins = []
    admin = db.session.execute(select(User).where(User.role == "admin")).scalars().first()
    if admin is None:
        admin = accounts.create_user(
            None, email=ADMIN_EMAIL, name="Administración", role="admin", password=ADMIN_PASSWORD
        )
        logins.append(Login(ADMIN_EMAIL, ADMIN_PASSWORD, "administración"))
    staff = accounts.create_user(
        None, email=STAFF_EMAIL, name="Laura Gómez", role="staff", password=STAFF_PASSWORD
    )
    petrolera = clients.create_client(admin, name="Petrolera del Norte S.A.", tax_id="A28000008")
    ferreteria = clients.create_client(admin, name="Ferretería Ruiz S.L.", tax_id="B12345674")
    marta_client = clients.create_client(
        admin, name="Marta Sánchez Vidal", tax_id="12345678Z", kind="person"
    )
    ana = accounts.create_user(
        None,
        email=CLIENT_EMAIL,
        name="Ana Pérez",
        role="client",
        client_id=petrolera.id,
        password=CLIENT_PASSWORD,
    )
    accounts.create_user(
        None,
        email=PERSON_EMAIL,
        name="Marta Sánchez",
        role="client",
        client_id=marta_client.id,
        password=PERSON_PASSWORD,
    )
    campaigns.set_tags(staff, petrolera.id, ["sociedad"])
    campaigns.set_tags(staff, ferreteria.id, ["sociedad", "renta"])
    campaigns.set_tags(staff, marta_client.id, ["renta"])

    litigio = clients.create_space(admin, petrolera.id, name="Litigio 2026/114", kind="case")
    ejercicio = clients.create_space(
        admin, ferreteria.id, name="Ejercicio 2025", kind="fiscal_year"
    )
    clients.add_member(admin, litigio.id, user_id=staff.id, permission="manage")
    clients.add_member(admin, litigio.id, user_id=ana.id, permission="contribute")
    clients.add_member(admin, ejercicio.id, user_id=staff.id, permission="manage")
    contract = documents.upload_document(
        staff,
        litigio.id,
        io.BytesIO(pdf("Contrato de suministro")),
        filename="contrato.pdf",
        title="Contrato de suministro",
    )
    documents.upload_document(
        staff,
        litigio.id,
        io.BytesIO(b"Estrategia procesal: no compartir."),
        filename="memo.txt",
        title="Memorando interno",
        visibility="internal",
    )
    documents.upload_document(
        staff,
        ejercicio.id,
        io.BytesIO(pdf("Cuentas anuales 2025")),
        filename="cuentas-2025.pdf",
        title="Cuentas anuales 2025",
    )

    requests.create_request(
        staff,
        litigio.id,
        title="Documentación para la demanda",
        due_date=today + timedelta(days=10),
        items=[
            {"title": "Facturas impagadas", "required": True},
            {"title": "Correos con el proveedor", "required": True},
            {"title": "Poder de representación", "required": False},
        ],
        message="Necesitamos estos documentos antes de presentar la demanda.",
        today=today,
    )
    question = conversations.create_thread(
        ana,
        litigio.id,
        subject="Fecha de la vista",
        body="¿Sabemos ya cuándo será la vista? Tengo que organizar el viaje.",
    )
    conversations.post_message(
        staff,
        question.id,
        body="El juzgado aún no la ha señalado; le avisamos en cuanto llegue la notificación.",
    )
    conversations.post_message(
        staff,
        question.id,
        body="Nota interna: llamar al juzgado el lunes.",
        internal=True,
    )
    incidents.create_incident(
        ana,
        litigio.id,
        title="No veo la última página del contrato",
        body=f"En el móvil el documento «{contract.title}» se corta en la página 3.",
        category="documentos",
        priority="normal",
    )
    renta = campaigns.create_campaign(
        staff,
        name="Renta 2026",
        template="renta",
        due_date=(today + timedelta(days=30)).isoformat(),
        client_filter={"tag": "renta"},
        space_kind="fiscal_year",
        space_name="Renta 2026",
        today=today,
    )
    campaigns.start(renta.id)
    for batch in campaigns.batches(campaigns.pending_rows(renta.id)):
        campaigns.run_batch(batch, today=today)
    campaigns.finish(renta.id)
    onboarding.start_onboarding(
        staff,
        email="jorge@obras-martin.demo",
        name="Jorge Martín",
        kind="company",
        client_name="Obras Martín S.L.",
        tax_id="B87654323",
        services=["obra"],
    )
    db.session.flush()
    return [
        Login(STAFF_EMAIL, STAFF_PASSWORD, "personal"),
        Login(CLIENT_EMAIL, CLIENT_PASSWORD, "cliente"),
        Login(PERSON_EMAIL, PERSON_PASSWORD, "cliente"),
        *logins,
    ]


def pdf(title: str) -> bytes:
    """A one-page PDF with `title` written on it (Helvetica, A4)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    safe = title.encode("latin-1", "replace").decode("latin-1").replace("(", "[").replace(")", "]")
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 24 Tf 72 760 Td ({safe}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
