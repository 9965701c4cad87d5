"""The firm's catalogue of services: what each opens, asks for and has signed."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Service, SpaceKind, User
from app.services import audit, requests
from app.services.access import require_admin
from app.services.errors import NotFound, ValidationFailed
from app.services.paging import Key, Page, PageArgs, keyset
from app.services.text import checked_text

_LETTER = """## Hoja de encargo profesional

En {city}, a {date}.

De una parte, {firm}, en adelante el despacho. De otra, {client_name}, con NIF {tax_id} y domicilio en {address}, en adelante el cliente.

El cliente encarga al despacho el servicio «{service}» en los términos siguientes:

{scope}

Honorarios: {fees}. Se facturarán al inicio de cada periodo y se pagarán por domiciliación bancaria.

El cliente se compromete a aportar, a través del portal del despacho, la documentación necesaria en los plazos indicados. El despacho guardará secreto profesional sobre toda la información recibida y la tratará conforme al Reglamento (UE) 2016/679.

Este encargo se firma electrónicamente por ambas partes y entra en vigor con la última firma. Puede resolverse por cualquiera de ellas con un preaviso de treinta días."""

BUILTIN_SERVICES: list[dict[str, Any]] = [
    {
        "key": "renta",
        "name": "Renta de persona física",
        "description": "Preparación y presentación de la declaración anual del IRPF.",
        "space_kind": SpaceKind.fiscal_year.value,
        "space_name": "Renta {year}",
        "request_template": "renta",
        "fees": "150 € más IVA por declaración",
        "scope": (
            "Preparación, revisión y presentación telemática de la declaración del Impuesto "
            "sobre la Renta de las Personas Físicas del ejercicio, y atención de los "
            "requerimientos que de ella deriven."
        ),
    },
    {
        "key": "contabilidad",
        "name": "Contabilidad y cuentas anuales de sociedad",
        "description": "Contabilidad, impuesto de sociedades, cuentas anuales y su depósito.",
        "space_kind": SpaceKind.fiscal_year.value,
        "space_name": "Contabilidad {year}",
        "request_template": "sociedades",
        "fees": "250 € más IVA al mes",
        "scope": (
            "Llevanza de la contabilidad, liquidaciones trimestrales de IVA y retenciones, "
            "impuesto de sociedades, formulación de las cuentas anuales y su depósito en el "
            "Registro Mercantil."
        ),
    },
    {
        "key": "obra",
        "name": "Proyecto de obra",
        "description": "Redacción del proyecto, licencia y dirección de obra.",
        "space_kind": SpaceKind.project.value,
        "space_name": "Proyecto de obra {year}",
        "request_template": None,
        "fees": "según presupuesto aceptado",
        "scope": (
            "Redacción del proyecto básico y de ejecución, tramitación de la licencia de obra "
            "y dirección facultativa hasta el certificado final de obra."
        ),
    },
]


def _shipped(template: dict[str, Any]) -> Service:
    return Service(
        key=template["key"],
        name=template["name"],
        description=template["description"],
        space_kind=template["space_kind"],
        space_name=template["space_name"],
        request_template=template["request_template"],
        fees=template["fees"],
        engagement_template=_LETTER.replace("{scope}", template["scope"]),
        active=True,
    )


def ensure_catalogue() -> None:
    """Store the three shipped services once; the firm then edits its copies."""
    existing = set(db.session.execute(select(Service.key)).scalars())
    for template in BUILTIN_SERVICES:
        if template["key"] not in existing:
            db.session.add(_shipped(template))
    db.session.flush()


def list_services(actor: User, page: PageArgs | None = None) -> Page[Service]:
    """The services the caller may take or offer, by name."""
    ensure_catalogue()
    query = select(Service)
    if not actor.is_staff:
        query = query.where(Service.active.is_(True))
    return keyset(query, (Key(Service.name), Key(Service.id)), page, scope="catalog")


def get_service(key: str) -> Service:
    ensure_catalogue()
    found = db.session.execute(select(Service).where(Service.key == key)).scalar_one_or_none()
    if found is None:
        raise NotFound(_("Ese servicio no existe."))
    return found


_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def create_service(
    actor: User,
    *,
    key: Any,
    name: Any,
    space_kind: Any,
    space_name: Any,
    description: Any = None,
    request_template: Any = None,
    engagement_template: Any = None,
    fees: Any = None,
) -> Service:
    """A new service in the catalogue (admin)."""
    require_admin(actor)
    ensure_catalogue()
    errors: dict[str, str] = {}
    key_text = checked_text(errors, "key", key, max_length=60, required=True)
    if key_text and not _KEY.match(key_text):
        errors["key"] = _("Solo minúsculas, cifras, - y _ (p. ej. renta-2026).")
    elif key_text and db.session.execute(select(Service.id).where(Service.key == key_text)).first():
        errors["key"] = _("Ya hay un servicio con esa clave.")
    name_text = checked_text(errors, "name", name, max_length=200, required=True)
    if not isinstance(space_kind, str) or space_kind not in {kind.value for kind in SpaceKind}:
        errors["space_kind"] = _("El tipo debe ser case, fiscal_year, project o general.")
    pattern = checked_text(errors, "space_name", space_name, max_length=200, required=True)
    if pattern and not _pattern_ok(pattern):
        errors["space_name"] = _("Solo se pueden usar {year} y {client} en el nombre.")
    description_text = checked_text(
        errors, "description", description, max_length=2000, multiline=True
    )
    template_key = checked_text(errors, "request_template", request_template, max_length=200)
    if template_key and requests.get_template(template_key) is None:
        errors["request_template"] = _("Esa plantilla de solicitud no existe.")
    letter = checked_text(
        errors, "engagement_template", engagement_template, max_length=20000, multiline=True
    )
    if letter and not _pattern_ok(letter, allowed=_LETTER_FIELDS):
        errors["engagement_template"] = _(
            "Campos permitidos: %(fields)s.",
            fields=", ".join("{" + f + "}" for f in _LETTER_FIELDS),
        )
    fees_text = checked_text(errors, "fees", fees, max_length=300)
    if errors:
        raise ValidationFailed(errors)
    service = Service(
        key=key_text,
        name=name_text,
        description=description_text,
        space_kind=space_kind,
        space_name=pattern,
        request_template=template_key,
        engagement_template=letter or _LETTER.replace("{scope}", name_text or ""),
        fees=fees_text,
        active=True,
    )
    db.session.add(service)
    db.session.flush()
    audit.record("service_created", actor, f"service:{service.key}")
    return service


_LETTER_FIELDS = ("client_name", "tax_id", "address", "service", "fees", "date", "firm", "city")


def _pattern_ok(text: str, allowed: tuple[str, ...] = ("year", "client")) -> bool:
    return all(name in allowed for name in re.findall(r"\{([^{}]*)\}", text))
