"""Extractors for Spanish identifiers, IBANs, dates, amounts and values next to labels.

Each extractor takes plain text or a ``PageText`` and returns ``Match`` objects with
the normalised value, the source text, its span in the text and, for pages, the
indices of the words it came from (so a caller can draw their boxes). This module
gathers them from the modules that hold one concern each: ``ocr.checks`` (check
characters, by python-stdnum), ``ocr.identifiers`` (DNI, NIE, CIF and IBAN with the
misreads OCR makes), ``ocr.dates``, ``ocr.amounts`` and ``ocr.labels``.
"""

from __future__ import annotations

from ocr.amounts import find_amounts, format_amount, parse_amount, payslip_balances
from ocr.checks import (
    CIF_ENTITY_LETTERS,
    DNI_LETTERS,
    IBAN_LENGTHS,
    IdentifierKind,
    cif_control,
    dni_letter,
    iban_check_digits,
    is_valid_cif,
    is_valid_dni,
    is_valid_iban,
    is_valid_identifier,
    is_valid_nie,
)
from ocr.dates import Period, find_dates, find_periods
from ocr.identifiers import find_cifs, find_dnis, find_ibans, find_identifiers, find_nies
from ocr.labels import find_label_occurrences, find_labelled_values, normalise_label
from ocr.matches import Match, TextSource

__all__ = [
    "CIF_ENTITY_LETTERS",
    "DNI_LETTERS",
    "IBAN_LENGTHS",
    "IdentifierKind",
    "Match",
    "Period",
    "TextSource",
    "cif_control",
    "dni_letter",
    "find_amounts",
    "find_cifs",
    "find_dates",
    "find_dnis",
    "find_ibans",
    "find_identifiers",
    "find_label_occurrences",
    "find_labelled_values",
    "find_nies",
    "find_periods",
    "format_amount",
    "iban_check_digits",
    "is_valid_cif",
    "is_valid_dni",
    "is_valid_iban",
    "is_valid_identifier",
    "is_valid_nie",
    "normalise_label",
    "parse_amount",
    "payslip_balances",
]
