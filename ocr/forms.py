"""Form templates whose fields are filled from a document's pages by the extractors.

Every value keeps its confidence, page, box and source text so that the person who
confirms the form can see where it came from; nothing here is final until then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import product
from typing import Any, Literal

from ocr._layout import line_drift, page_skew, same_line
from ocr.errors import UnknownTemplate
from ocr.extractors import (
    Match,
    find_amounts,
    find_dates,
    find_identifiers,
    find_label_occurrences,
    find_labelled_values,
    find_periods,
    format_amount,
    payslip_balances,
)
from ocr.results import Box, DocumentText, PageText, union_box

__all__ = [
    "LOW_CONFIDENCE",
    "FieldKind",
    "FieldSpec",
    "FieldValue",
    "FormTemplate",
    "TEMPLATES",
    "fill_form",
    "get_template",
    "list_templates",
]

#: Values below this confidence (0–100) are shown as needing a careful look.
LOW_CONFIDENCE = 60.0

FieldKind = Literal[
    "text", "reference", "person_id", "company_id", "iban", "date", "period", "amount"
]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a template: its labels for people and the labels it has on documents."""

    name: str
    label_es: str
    label_en: str
    kind: FieldKind
    #: Labels printed next to the value on documents, in Spanish (matched without accents).
    labels: tuple[str, ...]
    #: Section of the document (a key of ``FormTemplate.sections``) the value belongs to.
    section: str | None = None

    def describe(self) -> dict[str, Any]:
        """Return a serialisable description."""
        return {
            "name": self.name,
            "label": {"es": self.label_es, "en": self.label_en},
            "kind": self.kind,
        }


@dataclass(frozen=True, slots=True)
class FormTemplate:
    """A form filled from documents, such as the data of a payslip."""

    name: str
    title_es: str
    title_en: str
    fields: tuple[FieldSpec, ...]
    #: Section name → headings that open it (e.g. "Empresa", "Trabajador").
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Field triples ``(a, b, c)`` that must satisfy a − b = c.
    balances: tuple[tuple[str, str, str], ...] = ()

    def describe(self) -> dict[str, Any]:
        """Return a serialisable description."""
        return {
            "name": self.name,
            "title": {"es": self.title_es, "en": self.title_en},
            "fields": [f.describe() for f in self.fields],
        }


@dataclass(frozen=True, slots=True)
class FieldValue:
    """An auto-filled value (a display string), with where it was read and how sure we are."""

    value: str
    confidence: float
    page: int
    box: Box
    source_text: str
    #: Other readings of the same text that are just as valid (a DNI "2…" or a NIE "Z…").
    alternatives: tuple[str, ...] = ()

    @property
    def low_confidence(self) -> bool:
        """True when a person should look twice."""
        return self.confidence < LOW_CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "value": self.value,
            "confidence": self.confidence,
            "page": self.page,
            "box": list(self.box),
            "source_text": self.source_text,
            "alternatives": list(self.alternatives),
            "low_confidence": self.low_confidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldValue:
        """Build from ``to_dict`` output."""
        x0, y0, x1, y1 = (int(v) for v in data["box"])
        return cls(
            value=str(data["value"]),
            confidence=float(data["confidence"]),
            page=int(data["page"]),
            box=(x0, y0, x1, y1),
            source_text=str(data["source_text"]),
            alternatives=tuple(str(a) for a in data.get("alternatives", ())),
        )


_ID_LABELS = ("DNI", "NIE", "NIF", "DNI/NIE", "NIF/NIE", "Documento")
_CIF_LABELS = ("CIF", "NIF", "CIF/NIF", "NIF/CIF")

TEMPLATES: dict[str, FormTemplate] = {
    template.name: template
    for template in (
        FormTemplate(
            name="alta_cliente",
            title_es="Alta de cliente",
            title_en="New client",
            fields=(
                FieldSpec("given_name", "Nombre", "Given name", "text", ("Nombre",)),
                FieldSpec("surnames", "Apellidos", "Surnames", "text", ("Apellidos",)),
                FieldSpec("nif", "NIF/NIE", "Tax ID (NIF/NIE)", "person_id", _ID_LABELS),
                FieldSpec(
                    "birth_date",
                    "Fecha de nacimiento",
                    "Date of birth",
                    "date",
                    ("Fecha de nacimiento", "Nacimiento"),
                ),
                FieldSpec("address", "Domicilio", "Address", "text", ("Domicilio", "Dirección")),
                FieldSpec(
                    "account_holder",
                    "Titular de la cuenta",
                    "Account holder",
                    "text",
                    ("Titular", "Titular de la cuenta", "Nombre del titular"),
                ),
                FieldSpec(
                    "iban",
                    "IBAN",
                    "IBAN",
                    "iban",
                    ("IBAN", "Cuenta", "Número de cuenta", "Código IBAN"),
                ),
            ),
        ),
        FormTemplate(
            name="datos_nomina",
            title_es="Datos de nómina",
            title_en="Payslip data",
            fields=(
                FieldSpec(
                    "employer",
                    "Empresa",
                    "Employer",
                    "text",
                    ("Empresa", "Razón social", "Empleador"),
                    "empresa",
                ),
                FieldSpec(
                    "employer_cif",
                    "CIF de la empresa",
                    "Employer tax ID",
                    "company_id",
                    _CIF_LABELS,
                    "empresa",
                ),  # fmt: skip
                FieldSpec(
                    "worker",
                    "Trabajador",
                    "Employee",
                    "text",
                    ("Trabajador", "Trabajadora", "Empleado", "Nombre del trabajador"),
                    "trabajador",
                ),
                FieldSpec(
                    "worker_nif",
                    "NIF del trabajador",
                    "Employee tax ID",
                    "person_id",
                    _ID_LABELS,
                    "trabajador",
                ),  # fmt: skip
                FieldSpec(
                    "period",
                    "Periodo",
                    "Pay period",
                    "period",
                    ("Periodo de liquidación", "Periodo", "Período", "Mes", "Liquidación"),
                ),
                FieldSpec(
                    "gross",
                    "Total devengado",
                    "Gross pay",
                    "amount",
                    ("Total devengado", "Total devengos", "Total bruto", "Devengado"),
                ),
                FieldSpec(
                    "deductions",
                    "Total deducciones",
                    "Total deductions",
                    "amount",
                    ("Total a deducir", "Total deducciones", "Total deducido"),
                ),
                FieldSpec(
                    "net",
                    "Líquido a percibir",
                    "Net pay",
                    "amount",
                    (
                        "Líquido total a percibir",
                        "Líquido a percibir",
                        "Líquido total",
                        "Líquido",
                        "Neto a percibir",
                    ),
                ),
                FieldSpec("iban", "IBAN", "IBAN", "iban", ("IBAN", "Cuenta")),
            ),
            sections=(
                ("empresa", ("Empresa", "Datos de la empresa", "Empleador")),
                ("trabajador", ("Trabajador", "Trabajadora", "Datos del trabajador", "Empleado")),
            ),
            balances=(("gross", "deductions", "net"),),
        ),
        FormTemplate(
            name="factura_recibida",
            title_es="Factura recibida",
            title_en="Received invoice",
            fields=(
                FieldSpec(
                    "supplier",
                    "Proveedor",
                    "Supplier",
                    "text",
                    ("Proveedor", "Emisor", "Razón social", "Datos del proveedor"),
                    "proveedor",
                ),
                FieldSpec(
                    "supplier_cif",
                    "CIF del proveedor",
                    "Supplier tax ID",
                    "company_id",
                    _CIF_LABELS,
                    "proveedor",
                ),  # fmt: skip
                FieldSpec(
                    "invoice_number",
                    "Número de factura",
                    "Invoice number",
                    "reference",
                    ("Nº factura", "Nº de factura", "Número de factura", "Factura nº", "Factura"),
                ),
                FieldSpec(
                    "date",
                    "Fecha de factura",
                    "Invoice date",
                    "date",
                    (
                        "Fecha de factura",
                        "Fecha factura",
                        "Fecha de emisión",
                        "Fecha de expedición",
                        "Fecha",
                    ),
                ),
                FieldSpec(
                    "base",
                    "Base imponible",
                    "Tax base",
                    "amount",
                    ("Base imponible", "Base", "Subtotal"),
                ),
                FieldSpec(
                    "vat",
                    "IVA",
                    "VAT",
                    "amount",
                    ("IVA", "Cuota IVA", "Cuota de IVA", "Total IVA", "I.V.A."),
                ),
                FieldSpec(
                    "total",
                    "Total factura",
                    "Invoice total",
                    "amount",
                    ("Total factura", "Total a pagar", "Importe total", "Total"),
                ),
            ),
            sections=(
                ("proveedor", ("Proveedor", "Emisor", "Datos del proveedor", "Vendedor")),
                ("cliente", ("Cliente", "Destinatario", "Facturar a", "Datos del cliente")),
            ),
            # total − IVA = base imponible
            balances=(("total", "vat", "base"),),
        ),
    )
}


def list_templates() -> list[dict[str, Any]]:
    """Describe every template (names, titles and field labels in Spanish and English)."""
    return [template.describe() for template in TEMPLATES.values()]


def get_template(name: str) -> FormTemplate:
    """Return the template called ``name``."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(f"no form template named {name!r}") from None


# ---------------------------------------------------------------- candidates


@dataclass(frozen=True, slots=True)
class _Candidate:
    field: str
    display: str
    number: Decimal | None
    score: float
    page: int
    box: Box
    source_text: str
    corrections: int
    #: Identifies the place in the document, so that one place fills one field.
    place: tuple[int, int, int]
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Occurrence:
    name: str
    box: Box


class _PageContext:
    """One page with its label and section headings found once."""

    def __init__(self, page: PageText, template: FormTemplate) -> None:
        self.page = page
        self.template = template
        all_labels = [label for f in template.fields for label in f.labels]
        section_labels = [label for _, labels in template.sections for label in labels]
        self.all_labels = sorted(set(all_labels + section_labels))
        found = find_label_occurrences(page, sorted(set(all_labels)))
        self.labels: dict[str, list[Box]] = {}
        for label, indices in found:
            box = union_box(page.words[i].box for i in indices)
            self.labels.setdefault(label, []).append(box)
        self.identifiers = find_identifiers(page)
        self.skew = page_skew(page)
        self.sections: list[_Occurrence] = []
        for name, headings in template.sections:
            for _, indices in find_label_occurrences(page, list(headings)):
                box = union_box(page.words[i].box for i in indices)
                self.sections.append(_Occurrence(name, box))

    def label_boxes(self, field: FieldSpec) -> list[Box]:
        return [box for label in field.labels for box in self.labels.get(label, ())]

    def section_of(self, box: Box) -> str | None:
        """Name of the section heading nearest above (or level with) ``box``."""
        best: tuple[float, str] | None = None
        for occurrence in self.sections:
            heading = occurrence.box
            height = max(1, heading[3] - heading[1])
            if heading[1] > box[1] + height * 0.5:
                continue
            distance = (box[1] - heading[1]) + 0.5 * abs(box[0] - heading[0])
            if best is None or distance < best[0]:
                best = (distance, occurrence.name)
        return best[1] if best else None


def _mean_confidence(page: PageText, indices: Sequence[int]) -> float:
    if not indices:
        return 0.0
    return sum(page.words[i].confidence for i in indices) / len(indices)


def _proximity(label: Box, value: Box, skew: float) -> float:
    """How strongly a value's position says it belongs to a label (0–1)."""
    height = max(1, label[3] - label[1])
    drift = line_drift(label, value, skew)
    if drift is not None and value[0] >= label[0]:
        gap = max(0.0, (value[0] - label[2]) / height)
        # Amounts sit in a column far right of their labels: distance counts little.
        return max(0.8, 1.0 - 0.004 * gap) * (1.0 - 0.1 * drift)
    overlaps = value[2] >= label[0] - height and value[0] <= label[2] + height
    below = (value[1] - label[3]) / height
    if overlaps and -0.3 <= below <= 4:
        return max(0.5, 0.95 - 0.1 * max(0.0, below - 0.5))
    return 0.0


_UNLABELLED: dict[str, float] = {
    "person_id": 0.5,
    "company_id": 0.5,
    "iban": 0.55,
    "period": 0.4,
    "date": 0.0,
    "amount": 0.0,
}


def _score_match(
    context: _PageContext, field: FieldSpec, match: Match[Any], kind_factor: float
) -> float | None:
    if match.box is None:
        return None
    label_boxes = context.label_boxes(field)
    proximity = max((_proximity(box, match.box, context.skew) for box in label_boxes), default=0.0)
    if proximity and field.kind == "amount":
        proximity *= _first_to_the_right(context, label_boxes, match)
    proximity = max(proximity, _UNLABELLED.get(field.kind, 0.0))
    if proximity == 0.0:
        return None
    section = 0.9
    if field.section and context.sections:
        found = context.section_of(match.box)
        section = 1.0 if found == field.section else (0.4 if found else 0.85)
    confidence = _mean_confidence(context.page, match.word_indices)
    if field.kind in ("person_id", "company_id", "iban"):
        # A passed check character is strong evidence of its own: tesseract gives
        # low word confidences to unfamiliar strings of digits it read right.
        confidence = 60 + 0.4 * confidence
    return confidence * proximity * section * kind_factor * 0.97**match.corrections


def _first_to_the_right(context: _PageContext, labels: list[Box], match: Match[Any]) -> float:
    """Penalise an amount when another amount sits between it and its label."""
    assert match.box is not None
    for label in labels:
        if _proximity(label, match.box, context.skew) and match.box[0] >= label[2]:
            between = [
                w
                for w in context.page.words
                if label[2] <= w.box[0] < match.box[0]
                and same_line(label, w.box, context.skew)
                and re.search(r"\d+[.,]\d{2}", w.text)
            ]
            if between:
                return 0.6
    return 1.0


def _place(page: PageText, match: Match[Any]) -> tuple[int, int, int]:
    return (page.number, match.span[0], match.span[1])


def _identifier_matches(
    kind: FieldKind, identifiers: Sequence[Match[str]]
) -> list[tuple[Match[str], float]]:
    """Identifiers that may fill a field of ``kind``, with how well each kind fits."""
    # Sole traders invoice and employ with their personal NIF, hence 0.8 for a company.
    fit = {
        "person_id": {"dni": 1.0, "nie": 1.0},
        "company_id": {"cif": 1.0, "dni": 0.8, "nie": 0.8},
        "iban": {"iban": 1.0},
    }[kind]
    # A reading that could equally be another identifier is less sure.
    return [
        (m, fit[m.kind] * (0.85 if m.alternatives else 1.0)) for m in identifiers if m.kind in fit
    ]


def _candidates_for(context: _PageContext, field: FieldSpec) -> list[_Candidate]:
    page = context.page
    out: list[_Candidate] = []

    def add(
        match: Match[Any],
        display: str,
        score: float | None,
        number: Decimal | None,
        alternatives: tuple[str, ...] = (),
    ) -> None:
        if score is None or match.box is None:
            return
        out.append(
            _Candidate(
                field=field.name,
                display=display,
                number=number,
                score=round(min(score, 100.0), 1),
                page=page.number,
                box=match.box,
                source_text=match.source_text,
                corrections=match.corrections,
                place=_place(page, match),
                alternatives=alternatives,
            )
        )

    if field.kind in ("person_id", "company_id", "iban"):
        for match, factor in _identifier_matches(field.kind, context.identifiers):
            score = _score_match(context, field, match, factor)
            add(match, match.value, score, None, match.alternatives)
    elif field.kind == "date":
        for date_match in find_dates(page):
            add(
                date_match,
                date_match.value.isoformat(),
                _score_match(context, field, date_match, 1.0),
                None,
            )
    elif field.kind == "period":
        for period_match in find_periods(page):
            add(
                period_match,
                str(period_match.value),
                _score_match(context, field, period_match, 1.0),
                None,
            )
    elif field.kind == "amount":
        for amount in find_amounts(page, require_decimals=False, lenient=True):
            add(
                amount,
                format_amount(amount.value),
                _score_match(context, field, amount, 1.0),
                amount.value,
            )
    else:
        for value in find_labelled_values(page, field.labels, stop_labels=context.all_labels):
            text = _tidy(value.value)
            if field.kind == "reference":
                token = next((t for t in text.split() if re.search(r"\d", t)), None)
                if token is None:
                    continue
                text = token.strip(" :;,.")
            if not text:
                continue
            score = _score_text(context, field, value)
            add(value, text, score, None)
    return out


def _tidy(text: str) -> str:
    """Drop stray punctuation around a value, keeping the point of abbreviations ("S.L.")."""
    text = text.strip(" :;,-_|")
    if text.endswith(".") and "." not in text.rsplit(" ", 1)[-1][:-1]:
        text = text[:-1]
    return text


def _score_text(context: _PageContext, field: FieldSpec, value: Match[str]) -> float | None:
    assert value.box is not None
    proximity = max(
        (_proximity(box, value.box, context.skew) for box in context.label_boxes(field)),
        default=0.0,
    )
    proximity = max(proximity, 0.5)
    section = 0.9
    if field.section and context.sections:
        found = context.section_of(value.box)
        section = 1.0 if found in (field.section, None) else 0.4
    return _mean_confidence(context.page, value.word_indices) * proximity * section


# ---------------------------------------------------------------- filling


def fill_form(
    template_name: str, pages: Sequence[PageText] | DocumentText
) -> dict[str, FieldValue]:
    """Fill the template's fields from the pages; fields with no candidate are left out."""
    template = get_template(template_name)
    page_list = pages.pages if isinstance(pages, DocumentText) else tuple(pages)
    by_field: dict[str, list[_Candidate]] = {f.name: [] for f in template.fields}
    for page in page_list:
        context = _PageContext(page, template)
        for field in template.fields:
            by_field[field.name].extend(_candidates_for(context, field))
    for candidates in by_field.values():
        candidates.sort(key=lambda c: -c.score)
    chosen = _assign(by_field)
    for triple in template.balances:
        _cross_check(triple, by_field, chosen)
    return {
        name: FieldValue(c.display, c.score, c.page, c.box, c.source_text, c.alternatives)
        for name, c in chosen.items()
        if name in by_field
    }


def _assign(by_field: Mapping[str, list[_Candidate]]) -> dict[str, _Candidate]:
    """Give each field its best candidate, one document place per field, best scores first."""
    pool = sorted((c for cs in by_field.values() for c in cs), key=lambda c: -c.score)
    chosen: dict[str, _Candidate] = {}
    used: set[tuple[int, int, int]] = set()
    for candidate in pool:
        if candidate.field in chosen or _overlaps_used(candidate, used):
            continue
        chosen[candidate.field] = candidate
        used.add(candidate.place)
    return chosen


def _overlaps_used(candidate: _Candidate, used: set[tuple[int, int, int]]) -> bool:
    page, start, end = candidate.place
    return any(p == page and start < e and s < end for p, s, e in used)


def _with_score(candidate: _Candidate, score: float, **changes: Any) -> _Candidate:
    return replace(candidate, score=round(max(0.0, min(score, 99.0)), 1), **changes)


_Combination = tuple[_Candidate, _Candidate, _Candidate]


#: Digits tesseract takes for one another in amounts: a 7 with a thin bar reads as 1.
_AMOUNT_DIGIT_TWINS = {"1": "7", "7": "1"}


def _twin_readings(number: Decimal) -> list[Decimal]:
    """``number`` with one of its digits read as its twin instead, each way there is."""
    text = f"{number:.2f}"
    return [
        Decimal(text[:i] + _AMOUNT_DIGIT_TWINS[char] + text[i + 1 :])
        for i, char in enumerate(text)
        if char in _AMOUNT_DIGIT_TWINS
    ]


def _balance_with_twins(
    triple: tuple[str, str, str], chosen: Mapping[str, _Candidate]
) -> dict[str, Decimal] | None:
    """The amounts that make a − b = c hold when one or two of the three chosen readings
    had a digit read as its twin ("2.193,95" for 2.793,95): only when exactly one way to
    do so exists, by field; None otherwise."""
    numbers = [chosen[name].number for name in triple]
    if any(n is None for n in numbers):
        return None
    options = [
        [(n, False), *((twin, True) for twin in _twin_readings(n))]
        for n in numbers
        if n is not None
    ]
    ways = [
        combo
        for combo in product(*options)
        if 1 <= sum(changed for _, changed in combo) <= 2
        and payslip_balances(*(n for n, _ in combo))
    ]
    if len(ways) != 1:
        return None
    return {name: n for name, (n, changed) in zip(triple, ways[0], strict=True) if changed}


def _cross_check(
    triple: tuple[str, str, str],
    by_field: Mapping[str, list[_Candidate]],
    chosen: dict[str, _Candidate],
) -> None:
    """Apply a − b = c: prefer candidates that balance, and adjust confidences accordingly.

    When the best readings do not balance but would with a 1 read for a 7 (or the other
    way) in one or two of them, in one way only, those take the twin digit; else, when
    exactly one of them needed a correction (such as a decimal point read for a comma),
    that one is replaced by the value the other two imply. Either way the changed amounts
    are kept at a low confidence so that a person checks them.
    """
    first, second, _ = triple
    options = [by_field.get(name, [])[:4] for name in triple]
    balanced: list[_Combination] = [
        (a, b, c)
        for a, b, c in product(*options)
        if a.number is not None
        and b.number is not None
        and c.number is not None
        and len({a.place, b.place, c.place}) == 3
        and payslip_balances(a.number, b.number, c.number)
    ]
    if balanced:
        best = max(balanced, key=lambda combo: sum(c.score for c in combo))
        for candidate in best:
            # Three readings that add up are unlikely to be wrong, whatever tesseract
            # thought of each word.
            chosen[candidate.field] = _with_score(candidate, max(candidate.score + 15, 80.0))
        return
    present = [chosen.get(name) for name in triple]
    if any(c is None for c in present):
        return
    twins = _balance_with_twins(triple, chosen)
    if twins:
        for name, value in twins.items():
            chosen[name] = _with_score(
                chosen[name], LOW_CONFIDENCE - 10, display=format_amount(value), number=value
            )
        return
    corrected = [c for c in present if c is not None and c.corrections]
    if len(corrected) == 1 and all(c is not None and c.number is not None for c in present):
        a, b, c = (chosen[name].number for name in triple)
        assert a is not None and b is not None and c is not None
        field = corrected[0].field
        value = b + c if field == first else (a - c if field == second else a - b)
        chosen[corrected[0].field] = _with_score(
            corrected[0],
            LOW_CONFIDENCE - 10,
            display=format_amount(value),
            number=value,
        )
        return
    for name in triple:
        candidate = chosen[name]
        chosen[name] = _with_score(candidate, min(candidate.score * 0.6, LOW_CONFIDENCE - 1))
