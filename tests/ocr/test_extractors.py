"""Extractors: check characters, OCR misreads, dates, amounts and values next to labels."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import ocr_samples as samples
import pytest

from ocr.extractors import (
    Period,
    find_amounts,
    find_cifs,
    find_dates,
    find_dnis,
    find_ibans,
    find_identifiers,
    find_label_occurrences,
    find_labelled_values,
    find_nies,
    find_periods,
    format_amount,
    iban_check_digits,
    is_valid_cif,
    is_valid_dni,
    is_valid_iban,
    is_valid_nie,
    parse_amount,
    payslip_balances,
)
from ocr.results import PageText, Word


def values(matches):
    return [m.value for m in matches]


# ------------------------------------------------------------------ DNI / NIE


def test_dni_with_its_letter_is_found_however_it_is_printed():
    for text in ("12345678Z", "12.345.678-Z", "12345678-Z", "12 345 678 Z", "DNI: 12345678z"):
        assert values(find_dnis(text)) == ["12345678Z"], text


def test_dni_with_a_wrong_letter_is_never_proposed():
    for letter in "TRWAGMYFPDXBNJSQVHLCKE":  # every letter but Z, the right one
        assert find_dnis(f"DNI 12345678{letter}") == []
        assert find_identifiers(f"NIF: 12345678{letter}") == []


def test_a_changed_digit_is_always_caught():
    rng = random.Random(7)
    for _ in range(300):
        dni = samples.random_dni(rng)
        position = rng.randrange(8)
        digit = rng.choice([d for d in "0123456789" if d != dni[position]])
        wrong = dni[:position] + digit + dni[position + 1 :]
        assert find_identifiers(f"NIF {wrong}") == [], wrong


def test_misreads_are_corrected_only_when_the_letter_then_matches():
    # 00000013 takes J: "]", "|" and ")" are tesseract's usual readings of J.
    for misread in "]|)":
        found = find_dnis(f"DNI 00000013{misread}")
        assert values(found) == ["00000013J"] and found[0].corrections == 1
    # 00000023 takes T, so "]" (read as J) must not be turned into anything.
    assert find_dnis("DNI 00000023]") == []
    # O for 0, S for 5, B for 8 and l for 1 inside the number.
    found = find_dnis("NIF: 1234S67BZ")
    assert values(found) == ["12345678Z"] and found[0].corrections == 2
    assert find_dnis("NIF: 1234S67BA") == []  # same reading, wrong letter
    assert find_dnis("NIF: 1Z3S5678Z") == []  # three corrections are too many to trust
    assert values(find_dnis("NIF: O1234567L")) == ["01234567L"]
    assert values(find_dnis("DNI: l2345678Z")) == ["12345678Z"]


def test_a_digit_read_for_the_check_letter_is_never_turned_into_a_letter():
    # Whatever the label, a letter chosen so that the check passes would be invented.
    assert find_dnis("Tel. 734262275") == []
    assert find_dnis("NIF: 734262275") == []  # 73426227S with S read as 5
    assert find_dnis("D.N.I. 000000131") == []
    assert find_identifiers("NIF: 972838591") == []
    assert find_identifiers("NIE: X12345671") == []  # X1234567L with L read as 1
    # tesseract's symbol misreads of J stay corrected: they cannot be a digit
    assert values(find_dnis("D.N.I. 00000013]")) == ["00000013J"]


def test_a_cif_read_as_nine_digits_is_never_taken_for_a_dni():
    # J1469681I read "314696811" (J as 3, I as 1) also spells the "valid" DNI 31469681T.
    assert is_valid_dni("31469681T") and is_valid_cif("J1469681I")
    found = find_identifiers("Cliente:\nCIF: 314696811")
    assert [(m.kind, m.value) for m in found] == [("cif", "J1469681I")]
    assert find_dnis("CIF: 314696811") == []
    # without the CIF label nothing is proposed: neither reading can be trusted
    assert find_identifiers("Cliente: 314696811") == []
    assert find_identifiers("NIF: 314696811") == []


def test_a_cif_label_wins_over_a_dni_reading_of_the_same_characters():
    # "51978347A" is a valid DNI as printed and, with its 5 read back as S, a valid CIF.
    assert is_valid_dni("51978347A") and is_valid_cif("S1978347A")
    found = find_identifiers("CIF: 51978347A")
    assert [(m.kind, m.value, m.alternatives) for m in found] == [
        ("cif", "S1978347A", ("51978347A",))
    ]
    assert [(m.kind, m.value) for m in find_identifiers("NIF: 51978347A")] == [("dni", "51978347A")]


def test_nie_letters_and_prefixes():
    assert is_valid_nie("X1234567L") and is_valid_nie("Y1234567X") and is_valid_nie("Z1234567R")
    assert not is_valid_nie("X1234567A")
    assert values(find_nies("NIE: X-1234567-L y Y1234567X")) == ["X1234567L", "Y1234567X"]
    assert find_nies("NIE X1234567A") == []


def test_a_nie_whose_z_is_read_as_2_is_resolved_by_its_label_or_kept_as_alternative():
    # Z1234567R and 21234567R share their check letter: only the label can tell.
    assert is_valid_dni("21234567R") and is_valid_nie("Z1234567R")
    labelled = find_identifiers("NIE: 21234567R")
    assert [(m.kind, m.value, m.alternatives) for m in labelled] == [
        ("nie", "Z1234567R", ("21234567R",))
    ]
    unlabelled = find_identifiers("NIF: 21234567R")
    assert [(m.kind, m.value, m.alternatives) for m in unlabelled] == [
        ("dni", "21234567R", ("Z1234567R",))
    ]
    assert values(find_identifiers("NIE Z1234567R")) == ["Z1234567R"]
    # Z read as "Z2": taken back only next to a label
    assert values(find_identifiers("NIF: Z21234567R")) == ["Z1234567R"]
    assert find_identifiers("Z21234567R") == []


# ------------------------------------------------------------------ CIF


@pytest.mark.parametrize(
    ("cif", "valid"),
    [
        ("A58818501", True),  # A takes a digit
        ("A5881850A", False),
        ("B12345674", True),
        ("B1234567D", False),
        ("Q2826000H", True),  # Q takes a letter
        ("Q28260008", False),
        ("P1234567D", True),
        ("P12345674", False),
        ("G12345674", True),  # G takes either
        ("G1234567D", True),
        ("N0012345I", False),
        ("B0012345E", True),  # province 00 (non-resident) always takes a letter
        ("B00123455", False),
        ("I12345674", False),  # I is no entity letter
        ("B12345675", False),
    ],
)
def test_cif_control_character_follows_the_entity_letter(cif, valid):
    assert is_valid_cif(cif) is valid
    assert (values(find_cifs(f"CIF: {cif}")) == [cif]) is valid


def test_cif_misreads_and_shapes():
    assert values(find_cifs("C.I.F.: B-12345674")) == ["B12345674"]
    assert values(find_cifs("CIF B-1234567-4")) == ["B12345674"]
    assert values(find_cifs("CIF: B12 345674")) == ["B12345674"]  # a stray space from OCR
    assert values(find_cifs("CIF: 812345674")) == ["B12345674"]  # 8 read for B, next to a label
    assert find_cifs("Tel. 812345674") == []  # …but not a bare number
    assert values(find_cifs("CIF: 370927173")) == ["J70927173"]  # J read as 3
    assert values(find_cifs("CIF: $9096722E")) == ["S9096722E"]  # S read as $
    # C, D, G and Q all come out as 0, and the control does not depend on the letter:
    # any of them would pass, so none is proposed (ocr.reread reads that glyph again).
    assert find_cifs("CIF: 077976462") == [] and find_identifiers("CIF: 077976462") == []
    # An S among the digits is a 5 or an 8: whichever passes the check, when only one does.
    assert values(find_cifs("CIF: USO94646J")) == ["U8094646J"]  # 8 and 0 read as S and O
    assert values(find_dnis("NIF: S5153256S")) == ["55153256S"]
    # A J read as 3 at both ends: a 3 as the control is a J only after "CIF", when it checks.
    assert values(find_cifs("CIF: 357271333")) == ["J5727133J"]
    assert find_identifiers("NIF: 357271333") == []
    assert find_identifiers("Nº afiliación: 28/12345678/90") == []
    # one character too many after the control ("l1" for I), dropped next to a label only
    assert values(find_cifs("CIF: N3865698l1")) == ["N3865698I"]
    assert find_cifs("N3865698l1") == []
    assert find_cifs("CIF: N3865698l12") == []
    # J46400289 with its J read as "13": dropping a character and reading 1 as J on top
    # would make the CIF J34640029, which is valid but invented
    assert is_valid_cif("J34640029") and find_identifiers("CIF: 1346400289") == []
    assert find_cifs("NIF: 370927173") == []  # after "NIF" it would be a DNI, if anything
    # the nearest label counts: after "NIF" this is the worker's DNI, not the CIF S1978347A
    found = find_identifiers("CIF: B12345674 NIF: 51978347A")
    assert [(m.kind, m.value) for m in found] == [("cif", "B12345674"), ("dni", "51978347A")]
    # Z read as 7: neither a DNI with an invented letter nor anything else
    assert values(find_identifiers("CIF: B12345674 NIF: 470344627")) == ["B12345674"]
    assert values(find_cifs("CIF: F6512009l")) == ["F6512009I"]
    assert values(find_cifs("CIF: G1234567]")) == []  # ] is J = 0 for G12345674, not 4
    # invoice numbers shaped like a CIF but split inside the digits, or after "Nº factura"
    assert find_cifs("Nº factura: F2023-0207") == []
    assert find_identifiers("Factura nº G12345674") == []


# ------------------------------------------------------------------ IBAN


def test_iban_grouped_compact_and_misread():
    text = (
        "IBAN ES91 2100 0418 4502 0005 1332, ES9121000418450200051332, "
        "E591 2100 O418 4502 0005 1332 and ES91-2100-0418-45-0200051332"
    )
    found = find_ibans(text)
    assert values(found) == ["ES9121000418450200051332"] * 4
    assert [m.corrections for m in found] == [0, 0, 2, 0]


def test_foreign_ibans_pass_mod_97():
    for iban in ("DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"):
        grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        assert values(find_ibans(f"IBAN: {grouped}")) == [iban]
        assert is_valid_iban(iban)


def test_an_account_with_letters_is_read_where_its_country_allows_them():
    # Luxembourg's account part is three digits and thirteen letters or digits.
    bban = "001" + "9ABC400644750"
    iban = f"LU{iban_check_digits('LU', bban)}{bban}"
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    assert values(find_ibans(f"IBAN: {grouped}")) == [iban]


def test_an_iban_out_of_its_country_format_is_never_proposed_even_when_mod_97_passes():
    # A British bank code is four letters: "1EST" is no bank, whatever the check digits say.
    bban = "1EST12345698765432"
    iban = f"GB{iban_check_digits('GB', bban)}{bban}"
    assert not is_valid_iban(iban)
    assert find_ibans(f"IBAN: {iban}") == []


def test_an_iban_with_a_wrong_digit_or_length_is_never_proposed():
    rng = random.Random(3)
    for _ in range(200):
        iban = samples.random_spanish_iban(rng)
        position = rng.randrange(2, len(iban))
        digit = rng.choice([d for d in "0123456789" if d != iban[position]])
        assert find_ibans("IBAN " + iban[:position] + digit + iban[position + 1 :]) == []
    assert find_ibans("ES91 2100 0418 4502 0005 133") == []
    assert find_ibans("ES91 2100 0418 4502 0005 13321") == []


def test_random_identifiers_are_all_found_through_typical_misreads():
    rng = random.Random(11)
    misread = str.maketrans({"0": "O", "1": "l", "5": "S", "8": "B"})
    for _ in range(100):
        dni, nie, cif = samples.random_dni(rng), samples.random_nie(rng), samples.random_cif(rng)
        iban = samples.random_spanish_iban(rng)
        position = rng.randrange(1, 7)
        dni_read = dni[:position] + dni[position].translate(misread) + dni[position + 1 :]
        iban_read = iban[:6] + iban[6:].translate(misread)[:2] + iban[8:]
        text = f"NIF: {dni_read}\nNIE: {nie}\nCIF: {cif}\nIBAN: {iban_read}"
        found = {m.value for m in find_identifiers(text)} | {
            a for m in find_identifiers(text) for a in m.alternatives
        }
        assert {dni, nie, cif, iban} <= found, text


# ------------------------------------------------------------------ dates, periods


def test_numeric_and_spanish_dates():
    text = (
        "31/05/2024, 31-05-2024, 31.05.24, 1/6/2024, 31 de mayo de 2024, 3 de Septiembre del 2023,"
        " 12 03 1985, 4-ene-2022"
    )
    assert values(find_dates(text)) == [
        date(2024, 5, 31),
        date(2024, 5, 31),
        date(2024, 5, 31),
        date(2024, 6, 1),
        date(2024, 5, 31),
        date(2023, 9, 3),
        date(1985, 3, 12),
        date(2022, 1, 4),
    ]


def test_impossible_dates_are_ignored():
    assert find_dates("31/02/2024 and 45/01/2024 and 1.234,56") == []


def test_periods():
    text = "Periodo: mayo 2024; junio de 2023; 07/2022; del 01/02/2024 al 29/02/2024"
    periods = values(find_periods(text))
    assert periods == [Period(2024, 5), Period(2023, 6), Period(2022, 7), Period(2024, 2)]
    assert str(Period(2024, 2)) == "2024-02" and Period(2024, 2).end == date(2024, 2, 29)
    assert find_periods("del 01/02/2024 al 15/02/2024") == []  # half a month is no period
    assert find_periods("31 de mayo de 2024") == []  # a day is no period


# ------------------------------------------------------------------ amounts


def test_spanish_amounts():
    text = "1.234,56 € | 1234,56 | -12,00 | EUR 3.000,00 | 3.000 € | 0,50"
    assert values(find_amounts(text)) == [
        Decimal("1234.56"),
        Decimal("1234.56"),
        Decimal("-12.00"),
        Decimal("3000.00"),
        Decimal("3000"),
        Decimal("0.50"),
    ]


def test_years_percentages_quantities_and_dates_are_not_amounts():
    assert find_amounts("Año 2024, IRPF 12,00 %, 21 %, 3 unidades, 31.05.2024, ref 1.234") == []


def test_parse_and_format_amounts():
    assert parse_amount("1.234,56 €") == Decimal("1234.56")
    assert parse_amount("no amount") is None
    assert format_amount(Decimal("1234567.5")) == "1.234.567,50"
    assert format_amount(Decimal("-0.5")) == "-0,50"
    assert format_amount(Decimal("12")) == "12,00"
    lenient = find_amounts("IVA 393.31 Base 4,443,45", lenient=True)
    assert values(lenient) == [Decimal("393.31"), Decimal("4443.45")]
    assert [m.corrections for m in lenient] == [1, 1]
    assert find_amounts("4,443,45") == []


def test_a_decimal_comma_read_as_a_space_counts_after_a_thousands_point_only():
    """Seen on a scanned invoice: "Base imponible 6.999 94", "IVA 21 % 1.469 99"."""
    lenient = find_amounts("Base imponible 6.999 94 IVA 21 % 1.469 99", lenient=True)
    assert values(lenient) == [Decimal("6999.94"), Decimal("1469.99")]
    assert [m.corrections for m in lenient] == [1, 1]
    assert find_amounts("Base imponible 6.999 94") == []  # only where a label asks for one
    # A quantity then a price, a thousands group then a whole amount: read as before.
    assert values(find_amounts("Consultoría 11 233,01", lenient=True)) == [Decimal("233.01")]
    assert values(find_amounts("1.000 25,00 €", lenient=True)) == [Decimal("25.00")]
    assert find_amounts("Ref 1.234 567", lenient=True) == []
    # And a space after the comma: "3.358, 94 €".
    spaced = find_amounts("3.358, 94 € 705,38 €", lenient=True)
    assert values(spaced) == [Decimal("3358.94"), Decimal("705.38")]
    assert [m.corrections for m in spaced] == [1, 0]
    # And a 7 in the cents read as a slash: "586,/3 €"; a date keeps its slashes.
    slashed = find_amounts("2.193,95 € 586,/3 € 20/04/2024", lenient=True)
    assert values(slashed) == [Decimal("2193.95"), Decimal("586.73")]
    assert [m.corrections for m in slashed] == [0, 1]


def test_a_currency_sign_belongs_to_the_amount_before_it():
    found = find_amounts("4.443,45 € 933,12 € 5.376,57 €")
    assert [m.source_text for m in found] == ["4.443,45 €", "933,12 €", "5.376,57 €"]


def test_payslip_cross_check():
    assert payslip_balances(Decimal("2070.50"), Decimal("378.12"), Decimal("1692.38"))
    assert payslip_balances(Decimal("2070.50"), Decimal("378.12"), Decimal("1692.37"))
    assert not payslip_balances(Decimal("2070.50"), Decimal("378.12"), Decimal("1692.28"))


# ------------------------------------------------------------------ words and labels


def page_of(*lines: tuple[int, int, str], char_width: int = 20, height: int = 40) -> PageText:
    """A page whose lines start at (x, y); each word gets a box of char_width per letter."""
    words = []
    for number, (x, y, text) in enumerate(lines):
        for token in text.split():
            width = len(token) * char_width
            words.append(Word(token, 95.0, (x, y, x + width, y + height), f"1.1.{number}"))
            x += width + char_width
    return PageText.from_words(1, words, 2480, 3508)


def test_matches_on_a_page_point_back_to_their_words_and_boxes():
    page = page_of((100, 100, "NIF: 12345678 Z"), (100, 200, "IBAN: ES91 2100 0418 4502 0005 1332"))
    dni, iban = find_identifiers(page)
    assert [page.words[i].text for i in dni.word_indices] == ["12345678", "Z"]
    assert dni.box == (200, 100, 400, 140)
    assert len(iban.word_indices) == 6 and iban.box[0] == 220


def test_value_to_the_right_of_a_label():
    page = page_of(
        (100, 100, "Empresa: Construcciones Ruiz SL"),
        (1300, 100, "Trabajador: María López"),
    )
    (employer,) = find_labelled_values(page, ["Empresa"], stop_labels=["Trabajador"])
    assert employer.value == "Construcciones Ruiz SL"
    (worker,) = find_labelled_values(page, ["Trabajador"])
    assert worker.value == "María López"
    assert [page.words[i].text for i in worker.word_indices] == ["María", "López"]


def test_value_below_a_label_and_stop_at_the_next_label():
    page = page_of(
        (100, 100, "APELLIDOS"),
        (100, 150, "GARCÍA LÓPEZ"),
        (100, 220, "NOMBRE"),
        (100, 270, "MARÍA"),
        (100, 400, "Razón social: Talleres Norte SA CIF: B12345674"),
    )
    assert values(find_labelled_values(page, ["Apellidos"])) == ["GARCÍA LÓPEZ"]
    assert values(find_labelled_values(page, ["Nombre"])) == ["MARÍA"]
    assert values(find_labelled_values(page, ["Razón social"], stop_labels=["CIF"])) == [
        "Talleres Norte SA"
    ]


def test_labels_are_found_through_ocr_specks():
    page = page_of((100, 100, "TOTAL.A DEDUCIR 583,27"), (100, 200, "C.I.F.: B12345674"))
    found = dict(find_label_occurrences(page, ["Total a deducir", "CIF"]))
    assert found == {"Total a deducir": (0, 1), "CIF": (3,)}


def test_a_label_whose_capital_i_is_read_as_an_exclamation_mark_is_found():
    page = page_of((100, 100, "¡VA 21 % 206,82"), (100, 200, "|VA 210,00"))
    found = find_label_occurrences(page, ["IVA"])
    assert sorted(found) == [("IVA", (0,)), ("IVA", (4,))]
    assert [m.value for m in find_labelled_values(page, ["IVA"])][0].startswith("21 %")


def test_a_label_with_a_speck_before_it_is_found():
    """Seen on a scanned invoice: "-Proveedor:" lost the supplier, whose CIF went to the client."""
    page = page_of((100, 100, "-Proveedor: Cliente:"), (100, 200, "'Total' 8,00"))
    found = dict(find_label_occurrences(page, ["Proveedor", "Cliente", "Total"]))
    assert found == {"Proveedor": (0,), "Cliente": (1,), "Total": (2,)}


def test_a_label_whose_small_l_is_read_as_an_exclamation_mark_is_found():
    """Seen on a scanned invoice: "Tota!" over its amount."""
    page = page_of((100, 100, "Tota! 4.064,32 €"), (100, 200, "TOTA| 8,00"))
    assert sorted(find_label_occurrences(page, ["Total"])) == [("Total", (0,)), ("Total", (3,))]
    assert find_label_occurrences(page_of((100, 100, "Hola! 4,00")), ["Total"]) == []
