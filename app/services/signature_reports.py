"""Validation reports in the reader's language.

The signing library reports why a signature is not valid as stable problem codes
with details (kept as they are in the API's JSON and the evidence ZIP's JSON) and
an English sentence. People read the reasons worded here, in Spanish or English.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import format_datetime
from flask_babel import gettext as _

if TYPE_CHECKING:
    from signing.validate import (
        Problem,
        ReportText,
        SignatureReport,
        TimestampReport,
        ValidationReport,
    )


def _revocation_reason(name: str) -> str:
    names = {
        "unspecified": _("sin motivo indicado"),
        "key_compromise": _("clave comprometida"),
        "ca_compromise": _("autoridad de certificación comprometida"),
        "affiliation_changed": _("cambio de afiliación"),
        "superseded": _("certificado sustituido"),
        "cessation_of_operation": _("cese de actividad"),
        "certificate_hold": _("certificado suspendido"),
        "remove_from_crl": _("retirado de la lista de revocación"),
        "privilege_withdrawn": _("privilegio retirado"),
        "aa_compromise": _("autoridad de atributos comprometida"),
    }
    return names.get(name, name.replace("_", " "))


def _trust_indication(name: str) -> str:
    names = {
        "no_path": _("no hay cadena hasta una autoridad de confianza"),
        "no_certificate_chain_found": _("no hay cadena hasta una autoridad de confianza"),
        "expired": _("caducado"),
        "not_yet_valid": _("aún no es válido"),
        "revoked": _("revocado"),
        "revoked_no_poe": _("revocado"),
        "revoked_ca_no_poe": _("la autoridad que lo emitió está revocada"),
        "try_later": _("faltan los datos de revocación"),
        "out_of_bounds_no_poe": _("fuera de su periodo de validez"),
        "revocation_out_of_bounds_no_poe": _("los datos de revocación no son de su periodo"),
        "chain_constraints_failure": _("la cadena no cumple sus restricciones"),
        "certificate_chain_general_failure": _("la cadena de certificados no es válida"),
        "crypto_constraints_failure": _("usa algoritmos que ya no se aceptan"),
    }
    return names.get(name, name.replace("_", " "))


def _date(value: str) -> str:
    try:
        return format_datetime(datetime.fromisoformat(value), "medium")
    except (TypeError, ValueError):
        return value


def describe_problem(problem: Problem) -> str:
    """One problem as a sentence fragment in the current language."""
    details = problem.details
    code = problem.code
    signer = details.get("whose") != "timestamp_authority"
    if code == "no_signatures":
        return _("el documento no tiene firmas")
    if code == "unreadable":
        return _("la firma no se puede leer ni, por tanto, validar")
    if code == "digest_mismatch":
        return _("los datos firmados se han alterado (la huella no coincide)")
    if code == "signature_invalid":
        return _("el valor de la firma no es criptográficamente correcto")
    if code == "timestamp_invalid":
        return _("el sello de tiempo de la firma no es válido")
    if code == "certificate_revoked":
        values = {
            "date": _date(details.get("date", "")),
            "reason": _revocation_reason(details.get("revocation_reason", "unspecified")),
        }
        if signer:
            return _("el certificado del firmante fue revocado el %(date)s (%(reason)s)", **values)
        return _(
            "el certificado de la autoridad de sellado de tiempo fue revocado el %(date)s "
            "(%(reason)s)",
            **values,
        )
    if code == "certificate_untrusted":
        why = _trust_indication(details.get("indication", "no_path"))
        if signer:
            return _("el certificado del firmante no es de confianza: %(why)s", why=why)
        return _(
            "el certificado de la autoridad de sellado de tiempo no es de confianza: %(why)s",
            why=why,
        )
    if code == "docmdp_violated":
        return _("los cambios hechos después de certificar el documento no están permitidos")
    if code == "seed_value_violated":
        return _("no se respetan las condiciones fijadas para el campo de firma")
    if code == "coverage_incomplete":
        return _("la firma no cubre toda la revisión del documento a la que pertenece")
    if code == "changes_not_analysed":
        return _("no se han podido analizar los cambios hechos después de firmar")
    if code == "changes_beyond_form_filling":
        return _("el documento se modificó después de firmarlo, más allá de rellenar formularios")
    if code == "rejected":
        return _("el validador rechaza la firma")
    return problem.text


def describe_problems(problems: Sequence[Problem]) -> str:
    """Why something is not valid, as one sentence (empty when there is no problem)."""
    if not problems:
        return ""
    return _("Motivo: %(problems)s.", problems="; ".join(map(describe_problem, problems)))


def describe_report(report: ValidationReport) -> str:
    """Why the document as a whole is not valid: its own problem, or each failing item's."""
    if report.problems:
        text = "; ".join(map(describe_problem, report.problems))
        return text[:1].upper() + text[1:] + "."
    items: list[SignatureReport | TimestampReport] = [
        *report.signatures,
        *report.document_timestamps,
    ]
    parts = [
        f"{item.field}: {describe_problems(item.problems) or item.reason or ''}".strip()
        for item in items
        if not item.bottom_line
    ]
    return " ".join(parts)


def report_text() -> ReportText:
    """The words of the PDF validation report in the current language."""
    from signing.validate import ReportText

    return ReportText(
        title=_("Informe de validación de firmas"),
        verdict=_("Resultado: %(verdict)s", verdict="%(verdict)s"),
        valid=_("VÁLIDO"),
        not_valid=_("NO VÁLIDO"),
        validated_at=_("Validado el: %(when)s", when="%(when)s"),
        document_sha256=_("Huella SHA-256 del documento: %(sha256)s", sha256="%(sha256)s"),
        reason=_("Motivo: %(reason)s", reason="%(reason)s"),
        signature=_(
            "Firma %(number)s: %(signer)s (%(verdict)s)",
            number="%(number)s",
            signer="%(signer)s",
            verdict="%(verdict)s",
        ),
        item_valid=_("válida"),
        item_not_valid=_("NO VÁLIDA"),
        unknown_signer=_("firmante desconocido"),
        field_line=_("Campo: %(field)s", field="%(field)s"),
        certification=_("%(field)s (certificación)", field="%(field)s"),
        signed_at=_("Firmado el: %(when)s", when="%(when)s"),
        timestamp=_("Sello de tiempo: %(when)s", when="%(when)s"),
        level=_("Nivel alcanzado: %(level)s", level="%(level)s"),
        no_level=_("ninguno"),
        checks=_(
            "Íntegra: %(intact)s   Criptográficamente válida: %(valid)s   De confianza: "
            "%(trusted)s   Revocada: %(revoked)s",
            intact="%(intact)s",
            valid="%(valid)s",
            trusted="%(trusted)s",
            revoked="%(revoked)s",
        ),
        yes=_("sí"),
        no=_("no"),
        coverage=_(
            "Cobertura: %(coverage)s   Cambios posteriores: %(modifications)s",
            coverage="%(coverage)s",
            modifications="%(modifications)s",
        ),
        certificate=_("Certificado (SHA-256): %(sha256)s", sha256="%(sha256)s"),
        long_term=_(
            "Validada en la fecha de su sello de tiempo con los datos de revocación que el "
            "documento conserva (validación a largo plazo)."
        ),
        document_timestamp=_(
            "Sello de tiempo de archivo %(number)s: %(authority)s (%(verdict)s)",
            number="%(number)s",
            authority="%(authority)s",
            verdict="%(verdict)s",
        ),
        unknown_authority=_("autoridad desconocida"),
        timestamp_times=_(
            "Fecha: %(when)s   El certificado de la autoridad caduca el: %(expires)s",
            when="%(when)s",
            expires="%(expires)s",
        ),
        page_footer=_(
            "%(title)s - página %(number)s de %(total)s",
            title="%(title)s",
            number="%(number)s",
            total="%(total)s",
        ),
        coverage_names={
            "entire_file": _("todo el archivo"),
            "entire_revision": _("toda la revisión firmada"),
            "contiguous_block_from_start": _("solo una parte desde el principio"),
            "unclear": _("no está clara"),
        },
        modification_names={
            "none": _("ninguno"),
            "lta_updates": _("solo datos para la validación a largo plazo"),
            "form_filling": _("relleno de formularios y firmas"),
            "annotations": _("anotaciones"),
            "other": _("otros cambios en el contenido"),
        },
        when=lambda value: format_datetime(value, "medium") if value else "-",
        problems=describe_problems,
    )
