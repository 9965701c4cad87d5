"""Check characters of Spanish identifiers and IBANs, computed by python-stdnum.

These functions take a value as the extractors build it (no separators, capitals):
anything else is not a valid identifier here, even where stdnum would tidy it first,
so that a reading is never accepted because it was cleaned up on the way.
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum import iban as stdnum_iban
from stdnum import numdb
from stdnum.es import cif as stdnum_cif
from stdnum.es import dni as stdnum_dni
from stdnum.es import nie as stdnum_nie

__all__ = [
    "CIF_ENTITY_LETTERS",
    "DNI_LETTERS",
    "IBAN_LENGTHS",
    "NUMERIC_BBAN",
    "IdentifierKind",
    "cif_control",
    "dni_letter",
    "iban_check_digits",
    "is_valid_cif",
    "is_valid_dni",
    "is_valid_iban",
    "is_valid_identifier",
    "is_valid_nie",
]

IdentifierKind = Literal["dni", "nie", "cif", "iban"]

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
CIF_ENTITY_LETTERS = "ABCDEFGHJNPQRSUVW"
#: Entity letters whose control character must be a letter, or a digit. stdnum accepts
#: either control for every entity, since published sources disagree; the rule below is
#: the tax agency's, and it keeps a misread control of the wrong kind from passing.
_CIF_LETTER_CONTROL = "PQRSNW"
_CIF_DIGIT_CONTROL = "ABEH"


#: Each country's account part (BBAN) as the IBAN registry describes it, e.g. ``4!n4!n2!c``.
_BBAN_STRUCTURES = {
    low: props["bban"]
    for _, low, high, props, _ in numdb.get("iban").prefixes
    if low == high and "bban" in props
}
_BBAN_FIELD = re.compile(r"(\d+)!([nac])")
#: Length of each country's IBANs: country code, check digits and account part.
IBAN_LENGTHS = {
    country: 4 + sum(int(size) for size, _ in _BBAN_FIELD.findall(structure))
    for country, structure in _BBAN_STRUCTURES.items()
}
#: Countries whose account part is digits only, so that a letter read there is a misread.
NUMERIC_BBAN = frozenset(
    country
    for country, structure in _BBAN_STRUCTURES.items()
    if {kind for _, kind in _BBAN_FIELD.findall(structure)} == {"n"}
)


def dni_letter(number: int | str) -> str:
    """Return the check letter of a DNI number (or of a NIE with its prefix as a digit)."""
    return stdnum_dni.calc_check_digit(str(int(number)))


def is_valid_dni(value: str) -> bool:
    """Tell whether ``value`` is 8 digits followed by their check letter."""
    return bool(re.fullmatch(r"[0-9]{8}[A-Z]", value)) and stdnum_dni.is_valid(value)


def is_valid_nie(value: str) -> bool:
    """Tell whether ``value`` is X/Y/Z, 7 digits and the right check letter."""
    return bool(re.fullmatch(r"[XYZ][0-9]{7}[A-Z]", value)) and stdnum_nie.is_valid(value)


def cif_control(letter: str, digits: str) -> tuple[str, str]:
    """Return the control ``(digit, letter)`` of a CIF's 7 digits (the letter does not matter)."""
    if not re.fullmatch(r"[0-9]{7}", digits):
        raise ValueError("a CIF has 7 digits between its letters")
    control = stdnum_cif.calc_check_digits(letter + digits)
    return control[0], control[1]


def is_valid_cif(value: str) -> bool:
    """Tell whether ``value`` is a CIF whose control character fits its entity letter."""
    if not re.fullmatch(r"[A-Z][0-9]{7}[0-9A-J]", value) or value[0] not in CIF_ENTITY_LETTERS:
        return False
    if not stdnum_cif.is_valid(value):
        return False
    # Entities without Spanish residence (province code 00) always take a letter.
    if value[0] in _CIF_LETTER_CONTROL or value[1:3] == "00":
        return value[8].isalpha()
    if value[0] in _CIF_DIGIT_CONTROL:
        return value[8].isdigit()
    return True


def iban_check_digits(country: str, bban: str) -> str:
    """Return the two IBAN check digits for ``country`` and account part ``bban``."""
    return stdnum_iban.calc_check_digits(country.upper() + "00" + bban)


def is_valid_iban(value: str) -> bool:
    """Tell whether ``value`` (no spaces) fits its country's format and passes mod-97.

    Country-specific inner checks (a Spanish account's CCC digits) are left out: mod-97
    already catches a misread, and they would turn away accounts the portal takes.
    """
    value = value.upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", value):
        return False
    return stdnum_iban.is_valid(value, check_country=False)


def is_valid_identifier(kind: IdentifierKind, value: str) -> bool:
    """Check ``value`` as an identifier of ``kind``."""
    checks = {"dni": is_valid_dni, "nie": is_valid_nie, "cif": is_valid_cif, "iban": is_valid_iban}
    return checks[kind](value)
