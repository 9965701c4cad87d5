"""Form templates on hand-made pages: sections, label proximity and the cross-checks."""

from __future__ import annotations

import json

import pytest

from ocr.errors import UnknownTemplate
from ocr.forms import LOW_CONFIDENCE, FieldValue, fill_form, list_templates
from ocr.results import PageText, Word


def page_of(*lines: tuple[int, int, str], number: int = 1, confidence: float = 92.0) -> PageText:
    """A page whose text lines start at (x, y), 22 px per letter, 40 px high."""
    words = []
    for line, (x, y, text) in enumerate(lines):
        for token in text.split():
            width = len(token) * 22
            words.append(Word(token, confidence, (x, y, x + width, y + 40), f"{line}"))
            x += width + 22
    return PageText.from_words(number, words, 2480, 3508)


def payslip_page(net: str = "1.692,38") -> PageText:
    return page_of(
        (200, 300, "Empresa: Talleres Ruiz SL."),
        (200, 380, "NIF: B12345674"),
        (1300, 300, "Trabajador: Ana Gómez Pérez"),
        (1300, 380, "NIF: 12345678Z"),
        (200, 480, "Periodo de liquidación: mayo 2024"),
        (200, 1500, "TOTAL DEVENGADO"),
        (2100, 1500, "2.070,50"),
        (200, 1580, "TOTAL A DEDUCIR"),
        (2100, 1580, "378,12"),
        (200, 1660, "LÍQUIDO TOTAL A PERCIBIR"),
        (2100, 1660, net),
        (200, 1800, "IBAN: ES91 2100 0418 4502 0005 1332"),
    )


def test_templates_are_described_in_spanish_and_english():
    described = json.loads(json.dumps(list_templates()))
    names = {t["name"]: t for t in described}
    assert {"alta_cliente", "datos_nomina", "factura_recibida"} <= set(names)
    payslip_fields = {f["name"] for f in names["datos_nomina"]["fields"]}
    assert {"employer", "employer_cif", "worker", "worker_nif", "period"} <= payslip_fields
    assert {"gross", "deductions", "net", "iban"} <= payslip_fields
    invoice_fields = {f["name"] for f in names["factura_recibida"]["fields"]}
    assert {"supplier", "supplier_cif", "invoice_number", "date", "base", "vat", "total"} == (
        invoice_fields
    )
    for template in described:
        assert template["title"]["es"] and template["title"]["en"]
        for field in template["fields"]:
            assert field["label"]["es"] and field["label"]["en"]


def test_unknown_template():
    with pytest.raises(UnknownTemplate):
        fill_form("no_such_form", [])


def test_payslip_fields_go_to_the_right_party_and_balance():
    form = fill_form("datos_nomina", [payslip_page()])
    assert {name: value.value for name, value in form.items()} == {
        "employer": "Talleres Ruiz SL",
        "employer_cif": "B12345674",
        "worker": "Ana Gómez Pérez",
        "worker_nif": "12345678Z",
        "period": "2024-05",
        "gross": "2.070,50",
        "deductions": "378,12",
        "net": "1.692,38",
        "iban": "ES9121000418450200051332",
    }
    for name in ("gross", "deductions", "net"):
        assert form[name].confidence >= LOW_CONFIDENCE + 15 and not form[name].low_confidence
    assert form["gross"].box == (2100, 1500, 2100 + 8 * 22, 1540)
    assert form["gross"].source_text == "2.070,50" and form["gross"].page == 1


def test_payslip_totals_that_do_not_balance_are_marked_for_review():
    form = fill_form("datos_nomina", [payslip_page(net="1.629,38")])
    assert form["net"].value == "1.629,38"
    for name in ("gross", "deductions", "net"):
        assert form[name].low_confidence, name
        assert form[name].confidence < LOW_CONFIDENCE


def test_invoice_supplier_is_told_from_client_and_a_misread_total_is_repaired():
    page = page_of(
        (200, 200, "Proveedor:"),
        (200, 260, "Suministros Levante SL"),
        (200, 320, "CIF: B12345674"),
        (1300, 200, "Cliente:"),
        (1300, 260, "Asesoría Pérez SL"),
        (1300, 320, "CIF: A58818501"),
        (200, 450, "Nº factura: F2024-0153"),
        (1300, 450, "Fecha: 15 de marzo de 2024"),
        (1300, 1200, "Base imponible"),
        (2100, 1200, "1.825,27"),
        (1300, 1280, "IVA 21 %"),
        (2100, 1280, "393.31"),  # 383,31 with a digit and the comma misread
        (1300, 1360, "TOTAL FACTURA"),
        (2100, 1360, "2.208,58 €"),
    )
    form = fill_form("factura_recibida", [page])
    assert form["supplier"].value == "Suministros Levante SL"
    assert form["supplier_cif"].value == "B12345674"
    assert form["invoice_number"].value == "F2024-0153"
    assert form["date"].value == "2024-03-15"
    assert (form["base"].value, form["total"].value) == ("1.825,27", "2.208,58")
    vat = form["vat"]
    assert vat.value == "383,31" and vat.source_text == "393.31" and vat.low_confidence


def _invoice_totals(base: str, vat: str, total: str) -> PageText:
    return page_of(
        (200, 200, "Proveedor:"),
        (200, 260, "Suministros Levante SL"),
        (1300, 1200, "Base imponible"),
        (2100, 1200, base),
        (1300, 1280, "IVA 21 %"),
        (2100, 1280, vat),
        (1300, 1360, "TOTAL FACTURA"),
        (2100, 1360, total),
    )


def test_sevens_read_as_ones_are_repaired_when_the_totals_then_balance_one_way_only():
    """Seen on a scanned invoice: base 2.793,95 read 2.193,95 and VAT 586,73 read 586,13."""
    form = fill_form("factura_recibida", [_invoice_totals("2.193,95", "586,13", "3.380,68 €")])
    assert (form["base"].value, form["vat"].value) == ("2.793,95", "586,73")
    assert form["base"].source_text == "2.193,95"
    assert form["base"].low_confidence and form["vat"].low_confidence
    assert form["total"].value == "3.380,68" and not form["total"].low_confidence
    # Two ways to balance (a 1 in the base read for a 7, or a 7 in the total for a 1):
    # nothing is guessed, all three are to be checked.
    form = fill_form("factura_recibida", [_invoice_totals("2.193,95", "986,73", "3.780,68 €")])
    assert [form[n].value for n in ("base", "vat", "total")] == ["2.193,95", "986,73", "3.780,68"]
    assert all(form[n].low_confidence for n in ("base", "vat", "total"))


def test_client_onboarding_from_an_id_card_and_a_bank_certificate():
    card = page_of(
        (100, 100, "APELLIDOS"),
        (100, 150, "GARCÍA LÓPEZ"),
        (100, 220, "NOMBRE"),
        (100, 270, "MARÍA"),
        (100, 340, "FECHA DE NACIMIENTO"),
        (100, 390, "12 03 1985"),
        (100, 500, "DNI 12345678Z"),
        number=1,
    )
    certificate = page_of(
        (200, 300, "Titular: María García López"),
        (200, 380, "Domicilio: Calle Mayor 1, Madrid"),
        (200, 460, "IBAN:"),
        (200, 540, "ES91 2100 0418 4502 0005 1332"),
        number=2,
    )
    form = fill_form("alta_cliente", [card, certificate])
    assert {name: (value.value, value.page) for name, value in form.items()} == {
        "surnames": ("GARCÍA LÓPEZ", 1),
        "given_name": ("MARÍA", 1),
        "birth_date": ("1985-03-12", 1),
        "nif": ("12345678Z", 1),
        "account_holder": ("María García López", 2),
        "address": ("Calle Mayor 1, Madrid", 2),
        "iban": ("ES9121000418450200051332", 2),
    }


def test_field_values_round_trip_through_json():
    form = fill_form("datos_nomina", [payslip_page()])
    for value in form.values():
        data = json.loads(json.dumps(value.to_dict()))
        assert FieldValue.from_dict(data) == value
        assert data["low_confidence"] is value.low_confidence
