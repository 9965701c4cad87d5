"""The Spanish checklists the portal ships with; firms edit their copies in the database."""

from __future__ import annotations

from typing import Any


def _item(
    title: str, description: str = "", *, required: bool = True, types: str = ""
) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "required": required,
        "accepted_types": types,
    }


BUILTIN: list[dict[str, Any]] = [
    {
        "key": "renta",
        "name": "Declaración de la renta (IRPF) de una persona física",
        "description": "Lo necesario para preparar la declaración anual de la renta.",
        "recurrence": "yearly",
        "items": [
            _item("DNI o NIE de los declarantes", "Por las dos caras, en vigor."),
            _item(
                "Datos fiscales de la Agencia Tributaria", "Descargables desde la sede electrónica."
            ),
            _item(
                "Certificado de retenciones de la empresa",
                "Nóminas del año: lo entrega su empresa.",
            ),
            _item(
                "Certificados bancarios a 31 de diciembre",
                "Saldos, intereses y retenciones de cada cuenta.",
            ),
            _item("Recibo del IBI de la vivienda", "Con la referencia catastral."),
            _item("Aportaciones a planes de pensiones", required=False),
            _item("Justificantes de donativos", required=False),
            _item("Contrato y recibos de alquiler de la vivienda habitual", required=False),
        ],
    },
    {
        "key": "sociedades",
        "name": "Impuesto de sociedades y cuentas anuales",
        "description": "Cierre del ejercicio: contabilidad y documentación para el modelo 200 y el depósito de cuentas.",
        "recurrence": "yearly",
        "items": [
            _item("Balance de sumas y saldos a 31 de diciembre"),
            _item("Libro diario del ejercicio"),
            _item("Extractos bancarios a 31 de diciembre", "De todas las cuentas de la sociedad."),
            _item("Inventario de existencias a cierre"),
            _item("Préstamos y cuadros de amortización"),
            _item("Facturas de compra de inmovilizado"),
            _item("Modelo 200 del ejercicio anterior"),
            _item("Actas de la junta general", required=False),
        ],
    },
    {
        "key": "alta_cliente",
        "name": "Alta de cliente (KYC)",
        "description": "Identificación del cliente y de su titular real (prevención del blanqueo de capitales).",
        "recurrence": None,
        "items": [
            _item("DNI o NIE del representante", "Por las dos caras, en vigor."),
            _item("Escrituras de constitución de la sociedad"),
            _item("Tarjeta del CIF de la sociedad"),
            _item("Certificado de titularidad bancaria", "Emitido por el banco, con el IBAN."),
            _item("Poderes del representante", required=False),
            _item("Declaración de titular real"),
        ],
    },
    {
        "key": "obra",
        "name": "Proyecto de obra",
        "description": "Documentación técnica y administrativa de la obra.",
        "recurrence": None,
        "items": [
            _item("Planos del proyecto", "PDF o DWG/DXF.", types="pdf,dwg,dxf"),
            _item("Licencia de obras"),
            _item("Memoria descriptiva"),
            _item("Estudio de seguridad y salud"),
            _item("Presupuesto de ejecución material"),
            _item("Certificados de instalaciones", required=False),
        ],
    },
    {
        "key": "expediente_judicial",
        "name": "Expediente judicial",
        "description": "Lo que el despacho necesita para preparar el procedimiento.",
        "recurrence": None,
        "items": [
            _item("Poder general para pleitos", "Otorgado ante notario."),
            _item("Contratos relacionados con el asunto"),
            _item("Correspondencia con la otra parte", "Cartas, burofaxes y correos."),
            _item("Facturas y justificantes de pago", required=False),
            _item("DNI o NIE del cliente"),
        ],
    },
]
