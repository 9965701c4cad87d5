"""Extractors for Spanish identifiers, IBANs, dates, amounts and values next to labels.

Each extractor takes plain text or a ``PageText`` and returns ``Match`` objects with
the normalised value, the source text, its span in the text and, for pages, the
indices of the words it came from (so a caller can draw their boxes). Identifiers
are proposed only when their check character is right: OCR misreads (``]`` for
``J``, ``O`` for ``0``, ``S`` for ``5``…) are corrected only when the corrected value
then passes its check. A digit where a DNI/NIE check letter belongs is never turned
into a letter (that letter would be chosen to pass the check, i.e. invented; see
``ocr.reread.reread_check_letters`` for reading such a glyph again), and right after
a "CIF" label a CIF reading beats any DNI reading of the same characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Generic, Literal, TypeVar

from ocr._layout import height as box_height
from ocr._layout import page_skew, same_line
from ocr.results import Box, PageText, Word, layout_text, union_box

__all__ = [
    "CIF_ENTITY_LETTERS",
    "DNI_LETTERS",
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

T = TypeVar("T")
TextSource = str | PageText
IdentifierKind = Literal["dni", "nie", "cif", "iban"]
#: What label precedes a candidate on its line: none, any tax-ID label, or "CIF".
_Context = Literal["none", "tax", "cif"]

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
CIF_ENTITY_LETTERS = "ABCDEFGHJNPQRSUVW"
#: Entity letters whose control character must be a letter, or a digit.
_CIF_LETTER_CONTROL = "PQRSNW"
_CIF_DIGIT_CONTROL = "ABEH"
_CIF_CONTROL_LETTERS = "JABCDEFGHI"

#: Lengths of IBANs per country (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26,
    "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
#: Countries whose account part (BBAN) is digits only, so letter misreads can be fixed there.
_NUMERIC_BBAN = frozenset(
    "AD AT BA BE CZ DE DK EE ES FI FO GL HR HU IS LT LU ME MK NO PL PT RS SE SI SK TN XK".split()
)

#: What tesseract prints instead of a digit.
_DIGIT_MISREADS = {
    "O": "0", "o": "0", "Q": "0", "D": "0",
    "I": "1", "l": "1", "|": "1", "!": "1", "]": "1", "[": "1", "i": "1",
    "Z": "2", "z": "2", "S": "5", "s": "5", "$": "5",
    "B": "8", "G": "6", "b": "6", "T": "7", "g": "9", "q": "9",
}  # fmt: skip
#: What tesseract prints instead of a check letter. A digit there is never turned into a
#: letter: a nine-digit reading is as often another identifier read wrong (a CIF
#: "J1469681I" read "314696811" holds a "valid" DNI 31469681T), and a letter chosen to
#: pass the check is an invented identifier, not a corrected one.
_LETTER_MISREADS = {
    "]": ("J",), "|": ("J",), ")": ("J",), "!": ("J",), "l": ("L", "J"), "$": ("S",),
}  # fmt: skip
#: What tesseract prints instead of a CIF's entity letter; accepted only after "CIF".
#: Not 0, which C, D, G and Q all come out as: the check cannot tell them apart (the
#: control does not depend on the letter), so ``ocr.reread`` reads that glyph again.
_CIF_FIRST_MISREADS = {
    "8": "B", "4": "A", "6": "G", "5": "S", "$": "S", "3": "J", "1": "J", "]": "J", "|": "J",
}  # fmt: skip
#: A CIF's control letter can be I, which DNI letters never are.
_CIF_CONTROL_MISREADS = {"l": ("I",), "|": ("I",), "!": ("I",), "]": ("I",)}
#: Digits that are the twin glyph of a CIF control letter. A CIF's control may be a digit
#: or a letter, so these are tried only right after a "CIF" label, and only when the
#: control then checks.
_CIF_CONTROL_DIGIT_TWINS = {"1": "I", "0": "D", "8": "B", "6": "G", "3": "J"}
# A Z read as 2 is handled with DNIs, whose check letter it shares (see _dni_or_nie).
_NIE_PREFIX_MISREADS = {"×": "X"}
_DIGITS = "0123456789"
#: Between characters: printed separators, or specks that OCR reads as quotes or commas.
_SEPARATOR_CHARS = " .-'’‘`´,:;"
_SEPARATOR = "[" + re.escape(_SEPARATOR_CHARS) + "]?"
_REFERENCE_LABEL = re.compile(
    r"(?:factura|pedido|albar[aá]n|ref|referencia|expediente|n[º°o2]|n[uú]mero|num)"
    r"\.?\s*:?\s*$",
    re.I,
)
_NIE_LABEL = re.compile(r"n\.?\s?i\.?\s?e\b", re.I)
_PERSON_TAX_LABEL = re.compile(r"n\.?\s?i\.?\s?f|d\.?\s?n\.?\s?i", re.I)
_TAX_LABEL = re.compile(r"(?:c\.?\s?i\.?\s?f|n\.?\s?i\.?\s?[fe]|d\.?\s?n\.?\s?i)\b\.?", re.I)


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """One value found in a text, with where it came from."""

    kind: str
    value: T
    source_text: str
    #: ``(start, end)`` in the text searched (for a page, ``layout_text(page.words)``).
    span: tuple[int, int]
    #: Indices into ``PageText.words`` of the words the value was read from.
    word_indices: tuple[int, ...] = ()
    #: Number of characters changed to fix OCR misreads.
    corrections: int = 0
    #: Union of the words' boxes, when the text was a page.
    box: Box | None = None
    #: Other values the same text could be, equally valid (a DNI "2…" may be a NIE "Z…").
    alternatives: tuple[T, ...] = ()


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar month, such as a payslip's settlement period."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError("month must be 1..12")

    @property
    def start(self) -> date:
        """First day of the month."""
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """Last day of the month."""
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# ---------------------------------------------------------------- check characters


def dni_letter(number: int | str) -> str:
    """Return the check letter of a DNI number (or of a NIE with its prefix as a digit)."""
    return DNI_LETTERS[int(number) % 23]


def is_valid_dni(value: str) -> bool:
    """Tell whether ``value`` is 8 digits followed by their check letter."""
    return bool(re.fullmatch(r"\d{8}[A-Z]", value)) and dni_letter(value[:8]) == value[8]


def is_valid_nie(value: str) -> bool:
    """Tell whether ``value`` is X/Y/Z, 7 digits and the right check letter."""
    if not re.fullmatch(r"[XYZ]\d{7}[A-Z]", value):
        return False
    return dni_letter(str("XYZ".index(value[0])) + value[1:8]) == value[8]


def cif_control(letter: str, digits: str) -> tuple[str, str]:
    """Return the control ``(digit, letter)`` of a CIF's 7 digits (the letter does not matter)."""
    if not re.fullmatch(r"\d{7}", digits):
        raise ValueError("a CIF has 7 digits between its letters")
    even = sum(int(d) for d in digits[1::2])
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    control = (10 - (even + odd) % 10) % 10
    return str(control), _CIF_CONTROL_LETTERS[control]


def is_valid_cif(value: str) -> bool:
    """Tell whether ``value`` is a CIF whose control character fits its entity letter."""
    if not re.fullmatch(r"[A-Z]\d{7}[0-9A-J]", value) or value[0] not in CIF_ENTITY_LETTERS:
        return False
    digit, letter = cif_control(value[0], value[1:8])
    control = value[8]
    # Entities without Spanish residence (province code 00) always take a letter.
    if value[0] in _CIF_LETTER_CONTROL or value[1:3] == "00":
        return control == letter
    if value[0] in _CIF_DIGIT_CONTROL:
        return control == digit
    return control in (digit, letter)


def iban_check_digits(country: str, bban: str) -> str:
    """Return the two IBAN check digits for ``country`` and account part ``bban``."""
    return f"{98 - _iban_remainder(bban + country.upper() + '00'):02d}"


def _iban_remainder(rearranged: str) -> int:
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97


def is_valid_iban(value: str) -> bool:
    """Tell whether ``value`` (no spaces) has its country's length and passes mod-97."""
    value = value.upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", value):
        return False
    if IBAN_LENGTHS.get(value[:2]) != len(value):
        return False
    return _iban_remainder(value[4:] + value[:4]) == 1


def is_valid_identifier(kind: IdentifierKind, value: str) -> bool:
    """Check ``value`` as an identifier of ``kind``."""
    checks = {"dni": is_valid_dni, "nie": is_valid_nie, "cif": is_valid_cif, "iban": is_valid_iban}
    return checks[kind](value)


# ---------------------------------------------------------------- text and pages


@dataclass(frozen=True, slots=True)
class _Text:
    text: str
    words: tuple[Word, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()

    def locate(self, start: int, end: int) -> tuple[tuple[int, ...], Box | None]:
        indices = tuple(i for i, (a, b) in enumerate(self.spans) if a < end and b > start)
        if not indices:
            return (), None
        return indices, union_box(self.words[i].box for i in indices)


def _prepare(source: TextSource) -> _Text:
    if isinstance(source, str):
        return _Text(source)
    text, spans = layout_text(source.words)
    return _Text(text, source.words, spans)


def _match(
    prepared: _Text, kind: str, value: T, start: int, end: int, corrections: int = 0
) -> Match[T]:
    indices, box = prepared.locate(start, end)
    return Match(kind, value, prepared.text[start:end], (start, end), indices, corrections, box)


def _fold(text: str) -> str:
    """Lower-case and strip accents while keeping one character per character."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0].lower()
        out.append(base[0] if base else char)
    return "".join(out)


def _char_class(chars: Iterable[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(set(chars))) + "]"


def _line_before(text: str, start: int, width: int = 24) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    return text[max(line_start, start - width) : start]


def _resolve_overlaps(matches: list[Match[str]], prepared: _Text | None = None) -> list[Match[str]]:
    """Keep the fewest-corrections, longest match where matches overlap.

    With the text, a CIF right after a "CIF" label beats any other reading of the
    same characters, however few corrections that other reading needs; a DNI or NIE
    reading of exactly those characters stays as its alternative for the person
    confirming (a self-employed supplier may print its NIF after "CIF").
    """

    def rank(match: Match[str]) -> tuple[bool, int, int]:
        labelled_cif = (
            prepared is not None
            and match.kind == "cif"
            and _label_context(prepared.text, match.span[0]) == "cif"
        )
        return (not labelled_cif, match.corrections, -(match.span[1] - match.span[0]))

    kept: list[Match[str]] = []
    for match in sorted(matches, key=rank):
        if all(match.span[1] <= k.span[0] or match.span[0] >= k.span[1] for k in kept):
            kept.append(match)
    if prepared is not None:
        for index, match in enumerate(kept):
            if match.kind == "cif" and not rank(match)[0]:
                others = {m.value for m in matches if m.kind != "cif" and m.span == match.span}
                if others:
                    kept[index] = replace(match, alternatives=tuple(sorted(others)))
    return sorted(kept, key=lambda m: m.span)


# ---------------------------------------------------------------- DNI, NIE, CIF

_DIGIT_SLOT = _char_class(_DIGITS + "".join(_DIGIT_MISREADS))
_LETTER_SLOT = _char_class(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + "".join(_LETTER_MISREADS)
)
_NIE_SLOT = _char_class("XYZxyz" + "".join(_NIE_PREFIX_MISREADS))
_CIF_FIRST_SLOT = _char_class(
    CIF_ENTITY_LETTERS + CIF_ENTITY_LETTERS.lower() + "".join(_CIF_FIRST_MISREADS)
)
_CIF_CONTROL_SLOT = _char_class(
    _DIGITS + "ABCDEFGHIJabcdefghij" + "".join(_DIGIT_MISREADS) + "".join(_LETTER_MISREADS)
)
_BOUNDARY_BEFORE = r"(?<![0-9A-Za-z])"
_BOUNDARY_AFTER = r"(?![0-9A-Za-z])"


def _slots(*slots: str, separators: Sequence[str] | None = None) -> re.Pattern[str]:
    """Pattern for fixed slots, with an optional separator between slots (or where given)."""
    gaps = list(separators) if separators is not None else [_SEPARATOR] * (len(slots) - 1)
    body = slots[0] + "".join(gap + slot for gap, slot in zip(gaps, slots[1:], strict=True))
    return re.compile(rf"(?=({_BOUNDARY_BEFORE}{body}{_BOUNDARY_AFTER}))")


# A leading Z is a NIE's prefix, not a misread 2.
_DNI_PATTERN = _slots(
    _DIGIT_SLOT.replace("Z", "").replace("z", ""), *[_DIGIT_SLOT] * 7, _LETTER_SLOT
)
_NIE_PATTERN = _slots(_NIE_SLOT, *[_DIGIT_SLOT] * 7, _LETTER_SLOT)
# Tesseract sometimes reads a NIE's Z as "Z2": "Z24256067Z" for Z4256067Z.
_NIE_DOUBLED_PATTERN = _slots("[Zz]", "2", *[_DIGIT_SLOT] * 7, _LETTER_SLOT)
# Tesseract sometimes emits one character too many at the end of an identifier, as
# "N3865698l1" for N3865698I; next to a label, dropping one is tried.
_EXTRA_SLOT = r"[0-9A-Za-z|\]!]"
# A CIF is printed "B12345674", "B-12345674" or "B-1234567-4", never with a hyphen or
# point inside its digits as invoice numbers such as "F2024-0153" are; a space there is
# taken, since OCR puts stray ones in.
_CIF_PATTERN = _slots(
    _CIF_FIRST_SLOT,
    *[_DIGIT_SLOT] * 7,
    _CIF_CONTROL_SLOT,
    separators=[_SEPARATOR] + [" ?"] * 6 + [_SEPARATOR],
)


_DNI_EXTRA_PATTERN = _slots(
    _DIGIT_SLOT.replace("Z", "").replace("z", ""), *[_DIGIT_SLOT] * 7, _LETTER_SLOT, _EXTRA_SLOT
)
_NIE_EXTRA_PATTERN = _slots(_NIE_SLOT, *[_DIGIT_SLOT] * 7, _LETTER_SLOT, _EXTRA_SLOT)
_CIF_EXTRA_PATTERN = _slots(
    _CIF_FIRST_SLOT,
    *[_DIGIT_SLOT] * 7,
    _CIF_CONTROL_SLOT,
    _EXTRA_SLOT,
    separators=[_SEPARATOR] + [" ?"] * 6 + [_SEPARATOR, ""],
)


#: Letters that stand for one of two digits: tesseract reads both a 5 and an 8 as "S".
_DIGIT_MISREADS_TOO = {"S": "8", "s": "8"}


def _digits(chars: str) -> list[tuple[str, int]]:
    """The digits ``chars`` may stand for, each with the corrections it takes."""
    readings = [("", 0)]
    for char in chars:
        if char in _DIGITS:
            options = [(char, 0)]
        else:
            options = [(_DIGIT_MISREADS[char], 1)]
            if char in _DIGIT_MISREADS_TOO:
                options.append((_DIGIT_MISREADS_TOO[char], 1))
        readings = [(r + d, cost + c) for r, cost in readings for d, c in options]
    return readings


def _letter_options(char: str, context: _Context) -> list[tuple[str, int]]:
    """Possible letters for a check-letter slot, with the corrections each one costs."""
    options: list[tuple[str, int]] = []
    if char.isalpha() and char.isascii():
        options.append((char.upper(), 0 if char.isupper() else 1))
    options += [(letter, 1) for letter in _LETTER_MISREADS.get(char, ())]
    return options


def _compact(raw: str) -> str:
    return "".join(c for c in raw if c not in _SEPARATOR_CHARS)


def _scan(
    prepared: _Text,
    pattern: re.Pattern[str],
    kind: str,
    build: Callable[[str, _Context], tuple[str, int] | None],
    max_corrections: int,
) -> list[Match[str]]:
    found: list[Match[str]] = []
    for hit in pattern.finditer(prepared.text):
        start = hit.start(1)
        raw = hit.group(1)
        context = _label_context(prepared.text, start)
        if context is None:
            continue
        built = build(_compact(raw), context)
        if built is None:
            continue
        value, corrections = built
        if corrections > max_corrections:
            continue
        found.append(_match(prepared, kind, value, start, start + len(raw), corrections))
    return found


def _label_context(text: str, start: int) -> _Context | None:
    """The tax label before ``start`` on its line (the nearest counts); None after a reference."""
    before = _line_before(text, start)
    labels = list(_TAX_LABEL.finditer(before))
    if labels:
        return "cif" if labels[-1].group(0).lower().startswith("c") else "tax"
    if _REFERENCE_LABEL.search(before):
        # "Nº factura: F2023-0207" is a reference that merely looks like an identifier.
        return None
    return "none"


def _unique_valid(
    options: Iterable[tuple[str, int]], check: Callable[[str], bool]
) -> tuple[str, int] | None:
    """Return the single valid option (fewest corrections) or None when none or several pass."""
    valid: dict[str, int] = {}
    for value, cost in options:
        if check(value) and (value not in valid or cost < valid[value]):
            valid[value] = cost
    if len(valid) != 1:
        return None
    return next(iter(valid.items()))


def _build_dni(compact: str, context: _Context) -> tuple[str, int] | None:
    letters = _letter_options(compact[8], context)
    return _unique_valid(
        (
            (number + letter, cost + extra)
            for number, cost in _digits(compact[:8])
            for letter, extra in letters
        ),
        is_valid_dni,
    )


def _build_nie(compact: str, context: _Context) -> tuple[str, int] | None:
    first = compact[0]
    if first.upper() in "XYZ":
        prefix, cost = first.upper(), int(first.islower())
    elif first in _NIE_PREFIX_MISREADS:
        prefix, cost = _NIE_PREFIX_MISREADS[first], 1
    else:
        return None
    letters = _letter_options(compact[8], context)
    return _unique_valid(
        (
            (prefix + number + letter, cost + more + extra)
            for number, more in _digits(compact[1:8])
            for letter, extra in letters
        ),
        is_valid_nie,
    )


def _dropping_extra(
    build: Callable[[str, _Context], tuple[str, int] | None],
) -> Callable[[str, _Context], tuple[str, int] | None]:
    """Wrap a builder for a reading with one character too many, next to a label only."""

    def built(compact: str, context: _Context) -> tuple[str, int] | None:
        if context == "none":
            return None
        options = [build(compact[:-1], context), build(compact[:-2] + compact[-1], context)]
        # Dropping a character is one guess; a first character read as another one too
        # would be a second ("1346400289" is no J34640029 with a 8 too many: its J was
        # read as "13"), so the first character must be printed as it is.
        valid = {
            option
            for option in options
            if option is not None and option[0][0] == compact[0].upper()
        }
        if len({value for value, _ in valid}) != 1:
            return None
        value, cost = min(valid, key=lambda option: option[1])
        return value, cost + 1

    return built


def _build_doubled_nie(compact: str, context: _Context) -> tuple[str, int] | None:
    if context == "none":
        return None
    built = _build_nie(compact[0] + compact[2:], context)
    return None if built is None else (built[0], built[1] + 1)


def _build_cif(compact: str, context: _Context) -> tuple[str, int] | None:
    first = compact[0]
    if first.upper() in CIF_ENTITY_LETTERS:
        letter, cost = first.upper(), int(first.islower())
    elif first in _CIF_FIRST_MISREADS and context == "cif":
        letter, cost = _CIF_FIRST_MISREADS[first], 1
    else:
        return None
    control = compact[8]
    options: list[tuple[str, int]] = []
    if control in _DIGITS:
        options.append((control, 0))
    elif control in _DIGIT_MISREADS:
        options.append((_DIGIT_MISREADS[control], 1))
    if control.upper() in _CIF_CONTROL_LETTERS:
        options.append((control.upper(), int(control.islower())))
    misreads = _LETTER_MISREADS.get(control, ()) + _CIF_CONTROL_MISREADS.get(control, ())
    options += [(c, 1) for c in misreads if c in _CIF_CONTROL_LETTERS]
    if context == "cif" and control in _CIF_CONTROL_DIGIT_TWINS:
        options.append((_CIF_CONTROL_DIGIT_TWINS[control], 1))
    return _unique_valid(
        (
            (letter + number + c, cost + more + extra)
            for number, more in _digits(compact[1:8])
            for c, extra in options
        ),
        is_valid_cif,
    )


def _dni_or_nie(prepared: _Text, match: Match[str]) -> Match[str]:
    """Settle a DNI read as "2…", which a NIE "Z…" read with Z as 2 is just as well.

    Both have the same check letter, so only a label can tell them apart: next to
    "NIE" the NIE wins, otherwise the DNI, and the other reading is kept as an
    alternative for the person confirming.
    """
    if match.kind != "dni" or not match.source_text.startswith("2"):
        return match
    nie = "Z" + match.value[1:]
    before = _line_before(prepared.text, match.span[0])
    if _NIE_LABEL.search(before) and not _PERSON_TAX_LABEL.search(before):
        return replace(
            match,
            kind="nie",
            value=nie,
            corrections=match.corrections + 1,
            alternatives=(match.value,),
        )
    return replace(match, alternatives=(nie,))


def _scan_people(prepared: _Text, max_corrections: int, kinds: Sequence[str]) -> list[Match[str]]:
    """Scan for DNIs, NIEs and CIFs with every pattern their misreadings take."""
    scans: dict[
        str, list[tuple[re.Pattern[str], Callable[[str, _Context], tuple[str, int] | None]]]
    ] = {
        "dni": [(_DNI_PATTERN, _build_dni), (_DNI_EXTRA_PATTERN, _dropping_extra(_build_dni))],
        "nie": [
            (_NIE_PATTERN, _build_nie),
            (_NIE_DOUBLED_PATTERN, _build_doubled_nie),
            (_NIE_EXTRA_PATTERN, _dropping_extra(_build_nie)),
        ],
        "cif": [(_CIF_PATTERN, _build_cif), (_CIF_EXTRA_PATTERN, _dropping_extra(_build_cif))],
    }
    found: list[Match[str]] = []
    for kind in kinds:
        for pattern, build in scans[kind]:
            found += _scan(prepared, pattern, kind, build, max_corrections)
    return found


def find_dnis(source: TextSource, *, max_corrections: int = 2) -> list[Match[str]]:
    """Find DNI/NIF numbers (8 digits + check letter) whose letter is right."""
    prepared = _prepare(source)
    found = _resolve_overlaps(_scan_people(prepared, max_corrections, kinds=("dni",)))
    return [m for m in (_dni_or_nie(prepared, m) for m in found) if m.kind == "dni"]


def find_nies(source: TextSource, *, max_corrections: int = 2) -> list[Match[str]]:
    """Find NIE numbers (X/Y/Z + 7 digits + check letter) whose letter is right."""
    prepared = _prepare(source)
    found = _scan_people(prepared, max_corrections, kinds=("nie",))
    dnis = _scan_people(prepared, max_corrections, kinds=("dni",))
    labelled = [m for m in (_dni_or_nie(prepared, m) for m in dnis) if m.kind == "nie"]
    return _resolve_overlaps(found + labelled)


def find_cifs(source: TextSource, *, max_corrections: int = 2) -> list[Match[str]]:
    """Find CIFs (entity letter + 7 digits + control) whose control character is right."""
    prepared = _prepare(source)
    return _resolve_overlaps(_scan_people(prepared, max_corrections, kinds=("cif",)))


# ---------------------------------------------------------------- IBAN

_IBAN_START = re.compile(rf"{_BOUNDARY_BEFORE}([A-Za-z][A-Za-z5$])(?={_SEPARATOR}{_DIGIT_SLOT})")
_IBAN_CHAR = re.compile(r"[0-9A-Za-z|!\]\[$]")


def _read_iban_at(text: str, start: int) -> tuple[str, int, int] | None:
    """Read an IBAN starting at ``start``: (value, corrections, end) or None."""
    country = text[start : start + 2].upper().replace("5", "S").replace("$", "S")
    corrections = int(country != text[start : start + 2])
    length = IBAN_LENGTHS.get(country)
    if length is None:
        return None
    chars: list[str] = []
    position = start + 2
    gap = 0
    while len(chars) < length - 2 and position < len(text):
        char = text[position]
        if char in _SEPARATOR_CHARS:
            gap += 1
            if gap > 2:
                return None
            position += 1
            continue
        if not _IBAN_CHAR.fullmatch(char):
            return None
        gap = 0
        numeric = len(chars) < 2 or country in _NUMERIC_BBAN
        if numeric:
            if char not in _DIGITS:
                if char not in _DIGIT_MISREADS:
                    return None
                char = _DIGIT_MISREADS[char]
                corrections += 1
        else:
            char = char.upper()
        chars.append(char)
        position += 1
    if len(chars) != length - 2:
        return None
    if position < len(text) and text[position].isalnum():
        return None
    return country + "".join(chars), corrections, position


def find_ibans(source: TextSource, *, max_corrections: int = 3) -> list[Match[str]]:
    """Find IBANs (printed grouped or not) that pass mod-97."""
    prepared = _prepare(source)
    found: list[Match[str]] = []
    for hit in _IBAN_START.finditer(prepared.text):
        read = _read_iban_at(prepared.text, hit.start(1))
        if read is None:
            continue
        value, corrections, end = read
        if corrections <= max_corrections and is_valid_iban(value):
            found.append(_match(prepared, "iban", value, hit.start(1), end, corrections))
    return _resolve_overlaps(found)


def find_identifiers(source: TextSource) -> list[Match[str]]:
    """Find every DNI, NIE, CIF and IBAN, one match per place in the text."""
    prepared = _prepare(source)
    matches = _scan_people(prepared, 2, kinds=("dni", "nie", "cif"))
    people = [_dni_or_nie(prepared, m) for m in _resolve_overlaps(matches, prepared)]
    return people + find_ibans(source)


# ---------------------------------------------------------------- dates and periods

_MONTHS = {
    "enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "mar": 3, "abril": 4, "abr": 4,
    "mayo": 5, "may": 5, "junio": 6, "jun": 6, "julio": 7, "jul": 7, "agosto": 8, "ago": 8,
    "septiembre": 9, "setiembre": 9, "sept": 9, "sep": 9, "set": 9, "octubre": 10, "oct": 10,
    "noviembre": 11, "nov": 11, "diciembre": 12, "dic": 12,
}  # fmt: skip
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUMERIC_DATE = re.compile(
    r"(?<![\d/.\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?!\d|[/.\-]\d)"
    r"|(?<![\d/.\-])(\d{2}) (\d{2}) (\d{4})(?!\d)"
)
_TEXT_DATE = re.compile(
    rf"(?<![\w])(\d{{1,2}})(?:\s*(?:de\s+)|[\s\-/.]+)({_MONTH_NAMES})\.?"
    rf"(?:\s*(?:de|del)\s+|[\s\-/.,]+)(\d{{4}})(?!\d)"
)
_TEXT_PERIOD = re.compile(
    rf"(?<![\w])({_MONTH_NAMES})\.?(?:\s*(?:de|del)\s+|[\s\-/.]+)(\d{{4}})(?!\d)"
)
_NUMERIC_PERIOD = re.compile(r"(?<![\d/.\-])(\d{1,2})[/\-](\d{4})(?![\d/\-])")


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def find_dates(source: TextSource) -> list[Match[date]]:
    """Find dates like ``31/05/2024``, ``31-05-24``, ``31.05.2024`` and ``31 de mayo de 2024``."""
    prepared = _prepare(source)
    folded = _fold(prepared.text)
    found: list[Match[date]] = []
    for hit in _NUMERIC_DATE.finditer(folded):
        if hit.group(1):
            day, month, year = hit.group(1), hit.group(3), hit.group(4)
        else:
            day, month, year = hit.group(5), hit.group(6), hit.group(7)
        try:
            value = date(_year(year), int(month), int(day))
        except ValueError:
            continue
        found.append(_match(prepared, "date", value, hit.start(), hit.end()))
    for hit in _TEXT_DATE.finditer(folded):
        try:
            value = date(int(hit.group(3)), _MONTHS[hit.group(2)], int(hit.group(1)))
        except ValueError:
            continue
        found.append(_match(prepared, "date", value, hit.start(), hit.end()))
    return sorted(found, key=lambda m: m.span)


def find_periods(source: TextSource) -> list[Match[Period]]:
    """Find months like ``mayo 2024``, ``mayo de 2024``, ``05/2024`` or a whole-month date range."""
    prepared = _prepare(source)
    folded = _fold(prepared.text)
    found: list[Match[Period]] = []
    day_spans = [m.span for m in find_dates(prepared.text)]
    for hit in _TEXT_PERIOD.finditer(folded):
        if any(a <= hit.start() < b for a, b in day_spans):
            continue
        value = Period(int(hit.group(2)), _MONTHS[hit.group(1)])
        found.append(_match(prepared, "period", value, hit.start(), hit.end()))
    for hit in _NUMERIC_PERIOD.finditer(folded):
        if 1 <= int(hit.group(1)) <= 12:
            value = Period(int(hit.group(2)), int(hit.group(1)))
            found.append(_match(prepared, "period", value, hit.start(), hit.end()))
    dates = find_dates(prepared.text)
    for first, second in zip(dates, dates[1:], strict=False):
        between = prepared.text[first.span[1] : second.span[0]]
        if "\n" in between or len(between) > 12:
            continue
        period = Period(first.value.year, first.value.month)
        if first.value == period.start and second.value == period.end:
            found.append(_match(prepared, "period", period, first.span[0], second.span[1]))
    return sorted(found, key=lambda m: m.span)


# ---------------------------------------------------------------- amounts

_AMOUNT = re.compile(
    r"(?<![\w.,\-])(?P<neg>-\s?)?(?:(?P<before>€|EUR)\s?)?"
    r"(?P<number>\d{1,3}(?:\.\d{3})+(?:[.,]\d{2})?|\d+,\d{2}|\d+)"
    r"(?:\s?(?P<after>€|EUR|euros?\b))?"
    r"(?![\w]|[.,]\d|\s?%)"
)
# Also "393.31" (comma read as a point), "4,443,45" (point read as a comma), "6.999 94"
# (comma read as a space) and "3.358, 94" (a space after the comma), the last two after a
# thousands point only ("11 233,01" is a quantity and a price), and "586,/3" (a 7 read as
# a slash in the cents, which a date never has after a comma).
_LENIENT_AMOUNT = re.compile(
    _AMOUNT.pattern.replace(
        "(?P<number>",
        r"(?P<number>\d{1,3}(?:\.\d{3})+,? \d{2}(?![\d.,])|"
        r"(?:\d{1,3}(?:\.\d{3})+|\d+),(?:/\d|\d/)(?![\d/.,])|",
    ).replace(r"|\d+,\d{2}|", r"|\d{1,3}(?:,\d{3})+,\d{2}|\d+,\d{2}|\d{1,3}\.\d{2}|")
)


def parse_amount(text: str) -> Decimal | None:
    """Parse a Spanish-format amount (``1.234,56``, ``-12,00``, ``3.000 €``) or return None."""
    matches = find_amounts(text)
    return matches[0].value if len(matches) == 1 else None


def find_amounts(
    source: TextSource, *, require_decimals: bool = False, lenient: bool = False
) -> list[Match[Decimal]]:
    """Find amounts in Spanish format: ``1.234,56 €``, ``1234,56``, ``-12,00``, ``EUR 3.000,00``.

    Numbers without decimals count only next to a currency sign, so that years,
    quantities and reference numbers are not taken for money. With ``lenient``,
    ``123.45`` (a decimal comma read as a point) is also taken, counted as one
    correction, and so are ``6.999 94`` (a decimal comma read as a space), ``3.358, 94`` and
    ``586,/3`` (a 7 read as a slash).
    """
    prepared = _prepare(source)
    found: list[Match[Decimal]] = []
    pattern = _LENIENT_AMOUNT if lenient else _AMOUNT
    for hit in pattern.finditer(prepared.text):
        number = hit.group("number")
        currency = bool(hit.group("before") or hit.group("after"))
        corrections = 0
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+,\d{2}", number):
            head, cents = number.rsplit(",", 1)
            digits = head.replace(",", "") + "." + cents
            corrections = 1
        elif "/" in number:
            # "586,/3": a 7 read as a slash, in the cents.
            digits = number.replace(".", "").replace(",", ".").replace("/", "7")
            corrections = 1
        elif " " in number:
            # "6.999 94" or "3.358, 94": a decimal comma read as a space, or a space too many.
            head, cents = number.split(" ")
            digits = head.rstrip(",").replace(".", "") + "." + cents
            corrections = 1
        elif "," in number:
            digits = number.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+\.\d{2}|\d{1,3}\.\d{2}", number):
            # "1.234.56" or "393.31": a decimal comma read as a point.
            head, cents = number.rsplit(".", 1)
            digits = head.replace(".", "") + "." + cents
            corrections = 1
        else:
            if require_decimals or not currency:
                continue
            digits = number.replace(".", "")
        try:
            value = Decimal(digits)
        except InvalidOperation:
            continue
        start = hit.start()
        if hit.group("before") and re.search(r"\d\s?$", prepared.text[: hit.start("before")]):
            # "1.000,00 € 210,00": that € ends the amount before, it does not start this one.
            start = hit.start("number")
        elif hit.group("neg"):
            value = -value
        found.append(_match(prepared, "amount", value, start, hit.end(), corrections))
    return found


def format_amount(value: Decimal) -> str:
    """Format an amount the Spanish way: ``1.234,56``."""
    quantised = value.quantize(Decimal("0.01"))
    sign = "-" if quantised < 0 else ""
    whole, cents = f"{abs(quantised):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{'.'.join(groups)},{cents}"


def payslip_balances(
    gross: Decimal, deductions: Decimal, net: Decimal, *, tolerance: Decimal = Decimal("0.01")
) -> bool:
    """Tell whether total devengado − total deducciones = líquido a percibir, within tolerance."""
    return abs(gross - deductions - net) <= tolerance


# ---------------------------------------------------------------- labelled values


def normalise_label(text: str) -> str:
    """Fold a word for label comparison: lower case, no accents, no dots or colons."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    token = re.sub(r"[.:;,()\[\]]", "", folded)
    # Specks at a word's edges read as dashes or quotes ("-Proveedor:").
    token = token.strip("-_'\"`´‘’“”")
    # A capital I at the start of a word is often read as "¡" or "|" ("¡VA" for IVA).
    token = re.sub(r"^[¡|]", "i", token)
    # A small l after a letter is often read as "!" or "|" ("Tota!" for Total).
    token = re.sub(r"(?<=[a-z])[!|]", "l", token)
    # "Nº" is printed many ways and read by tesseract as "N2", "N°" or "No".
    return "no" if token in _NUMBER_SIGNS else token


_NUMBER_SIGNS = frozenset({"no", "n°", "n2", "nro", "num", "numero"})


def _label_tokens(label: str) -> tuple[str, ...]:
    return tuple(t for t in (normalise_label(w) for w in label.split()) if t)


def _word_forms(text: str) -> list[tuple[str, ...]]:
    """Ways a word can stand in a label: whole ("C.I.F." → cif) or split ("TOTAL.A" → total a)."""
    joined = normalise_label(text)
    forms: list[tuple[str, ...]] = [(joined,)] if joined else []
    parts = tuple(p for p in (normalise_label(p) for p in re.split(r"[.:;,]+", text)) if p)
    if len(parts) > 1:
        forms.append(parts)
    return forms


def _phrase_end(forms: Sequence[list[tuple[str, ...]]], start: int, phrase: tuple[str, ...]) -> int:
    """Index after the words from ``start`` that spell ``phrase``, or -1."""
    if not phrase:
        return start
    if start >= len(forms):
        return -1
    for form in forms[start]:
        if phrase[: len(form)] == form:
            end = _phrase_end(forms, start + 1, phrase[len(form) :])
            if end >= 0:
                return end
    return -1


def find_label_occurrences(
    page: PageText, labels: Sequence[str]
) -> list[tuple[str, tuple[int, ...]]]:
    """Find each label (a phrase) in the page's lines: ``(label, word indices)``, longest first."""
    lines: dict[str, list[int]] = {}
    for index, word in enumerate(page.words):
        lines.setdefault(word.line_key, []).append(index)
    line_forms = {
        key: [_word_forms(page.words[i].text) for i in indices] for key, indices in lines.items()
    }
    wanted = sorted(((label, _label_tokens(label)) for label in labels), key=lambda x: -len(x[1]))
    taken: set[int] = set()
    found: list[tuple[str, tuple[int, ...]]] = []
    for label, phrase in wanted:
        if not phrase:
            continue
        for key, indices in lines.items():
            for offset in range(len(indices)):
                end = _phrase_end(line_forms[key], offset, phrase)
                window = indices[offset:end]
                if end < 0 or any(i in taken for i in window):
                    continue
                found.append((label, tuple(window)))
                taken.update(window)
    return found


def find_labelled_values(
    page: PageText, labels: Sequence[str], *, stop_labels: Sequence[str] = ()
) -> list[Match[str]]:
    """Find the value written after each label: on the same line to its right, or just below.

    The value runs over neighbouring words until a wide gap, a word ending in a colon
    or one of ``stop_labels`` (other labels that may share the line).
    """
    occurrences = find_label_occurrences(page, list(labels) + list(stop_labels))
    label_set = {normalise_label(label) for label in labels}
    blocked = {i for _, indices in occurrences for i in indices}
    text, spans = layout_text(page.words)
    skew = page_skew(page)
    results: list[Match[str]] = []
    for label, indices in occurrences:
        if normalise_label(label) not in label_set:
            continue
        anchor = union_box(page.words[i].box for i in indices)
        value = _value_right(page, anchor, blocked, skew) or _value_below(
            page, anchor, blocked, skew
        )
        if not value:
            continue
        start = min(spans[i][0] for i in value)
        end = max(spans[i][1] for i in value)
        words_text = " ".join(page.words[i].text for i in value)
        box = union_box(page.words[i].box for i in value)
        results.append(
            Match("label_value", words_text, text[start:end], (start, end), value, 0, box)
        )
    return results


def _run_of_words(
    page: PageText, ordered: list[int], blocked: set[int], height: int
) -> tuple[int, ...]:
    """Take words left to right until a gap wider than about three letters or a label."""
    run: list[int] = []
    for index in ordered:
        word = page.words[index]
        if index in blocked:
            break
        if run and word.box[0] - page.words[run[-1]].box[2] > height * 1.6:
            break
        run.append(index)
        if word.text.endswith(":"):
            run.pop()
            break
    return tuple(run)


def _value_right(page: PageText, anchor: Box, blocked: set[int], skew: float) -> tuple[int, ...]:
    height = box_height(anchor)
    ordered = sorted(
        (
            i
            for i, w in enumerate(page.words)
            if w.box[0] >= anchor[2] - height * 0.3 and same_line(anchor, w.box, skew)
        ),
        key=lambda i: page.words[i].box[0],
    )
    if not ordered or page.words[ordered[0]].box[0] - anchor[2] > height * 6:
        return ()
    return _run_of_words(page, ordered, blocked, height)


def _value_below(page: PageText, anchor: Box, blocked: set[int], skew: float) -> tuple[int, ...]:
    height = box_height(anchor)
    below = [
        i
        for i, w in enumerate(page.words)
        if w.box[1] >= anchor[1] + height * 0.6
        and w.box[1] - anchor[3] <= height * 2.5
        and w.box[2] >= anchor[0] - height
        and w.box[0] <= anchor[2] + height
    ]
    if not below:
        return ()
    first = min(below, key=lambda i: (page.words[i].box[3], page.words[i].box[0]))
    line_box = page.words[first].box
    ordered = sorted(
        (i for i, w in enumerate(page.words) if same_line(line_box, w.box, skew)),
        key=lambda i: page.words[i].box[0],
    )
    start = min(ordered, key=lambda i: abs(page.words[i].box[0] - anchor[0]))
    return _run_of_words(page, ordered[ordered.index(start) :], blocked, box_height(line_box))
