"""DNI, NIE, CIF and IBAN in OCR text: the misreads tesseract makes, corrected where they check.

An identifier is proposed only when its check character is right (``ocr.checks``, by
python-stdnum): OCR misreads (``]`` for ``J``, ``O`` for ``0``, ``S`` for ``5``…) are
corrected only when the corrected value then passes its check. A digit where a DNI/NIE
check letter belongs is never turned into a letter (that letter would be chosen to pass
the check, i.e. invented; see ``ocr.reread.reread_check_letters`` for reading such a
glyph again), and right after a "CIF" label a CIF reading beats any DNI reading of the
same characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Literal

from ocr.checks import (
    CIF_ENTITY_LETTERS,
    IBAN_LENGTHS,
    NUMERIC_BBAN,
    is_valid_cif,
    is_valid_dni,
    is_valid_iban,
    is_valid_nie,
)
from ocr.matches import Match, PreparedText, TextSource, line_before, match_at, prepare

__all__ = ["find_cifs", "find_dnis", "find_ibans", "find_identifiers", "find_nies"]

#: What label precedes a candidate on its line: none, any tax-ID label, or "CIF".
_Context = Literal["none", "tax", "cif"]

#: What a CIF's control character is when it is a letter (by the digit it stands for).
_CIF_CONTROL_LETTERS = "JABCDEFGHI"

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


def _char_class(chars: Iterable[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(set(chars))) + "]"


def _resolve_overlaps(
    matches: list[Match[str]], prepared: PreparedText | None = None
) -> list[Match[str]]:
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
    prepared: PreparedText,
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
        found.append(match_at(prepared, kind, value, start, start + len(raw), corrections))
    return found


def _label_context(text: str, start: int) -> _Context | None:
    """The tax label before ``start`` on its line (the nearest counts); None after a reference."""
    before = line_before(text, start)
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


def _dni_or_nie(prepared: PreparedText, match: Match[str]) -> Match[str]:
    """Settle a DNI read as "2…", which a NIE "Z…" read with Z as 2 is just as well.

    Both have the same check letter, so only a label can tell them apart: next to
    "NIE" the NIE wins, otherwise the DNI, and the other reading is kept as an
    alternative for the person confirming.
    """
    if match.kind != "dni" or not match.source_text.startswith("2"):
        return match
    nie = "Z" + match.value[1:]
    before = line_before(prepared.text, match.span[0])
    if _NIE_LABEL.search(before) and not _PERSON_TAX_LABEL.search(before):
        return replace(
            match,
            kind="nie",
            value=nie,
            corrections=match.corrections + 1,
            alternatives=(match.value,),
        )
    return replace(match, alternatives=(nie,))


def _scan_people(
    prepared: PreparedText, max_corrections: int, kinds: Sequence[str]
) -> list[Match[str]]:
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
    prepared = prepare(source)
    found = _resolve_overlaps(_scan_people(prepared, max_corrections, kinds=("dni",)))
    return [m for m in (_dni_or_nie(prepared, m) for m in found) if m.kind == "dni"]


def find_nies(source: TextSource, *, max_corrections: int = 2) -> list[Match[str]]:
    """Find NIE numbers (X/Y/Z + 7 digits + check letter) whose letter is right."""
    prepared = prepare(source)
    found = _scan_people(prepared, max_corrections, kinds=("nie",))
    dnis = _scan_people(prepared, max_corrections, kinds=("dni",))
    labelled = [m for m in (_dni_or_nie(prepared, m) for m in dnis) if m.kind == "nie"]
    return _resolve_overlaps(found + labelled)


def find_cifs(source: TextSource, *, max_corrections: int = 2) -> list[Match[str]]:
    """Find CIFs (entity letter + 7 digits + control) whose control character is right."""
    prepared = prepare(source)
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
        numeric = len(chars) < 2 or country in NUMERIC_BBAN
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
    prepared = prepare(source)
    found: list[Match[str]] = []
    for hit in _IBAN_START.finditer(prepared.text):
        read = _read_iban_at(prepared.text, hit.start(1))
        if read is None:
            continue
        value, corrections, end = read
        if corrections <= max_corrections and is_valid_iban(value):
            found.append(match_at(prepared, "iban", value, hit.start(1), end, corrections))
    return _resolve_overlaps(found)


def find_identifiers(source: TextSource) -> list[Match[str]]:
    """Find every DNI, NIE, CIF and IBAN, one match per place in the text."""
    prepared = prepare(source)
    matches = _scan_people(prepared, 2, kinds=("dni", "nie", "cif"))
    people = [_dni_or_nie(prepared, m) for m in _resolve_overlaps(matches, prepared)]
    return people + find_ibans(source)
