"""Read an identity document: a Spanish DNI or NIE card (both sides) or a passport's photo page.

The machine-readable zone (ICAO 9303: three lines of 30 on cards, TD1; two of 44 on
passports, TD3) is read and its check digits verified by the ``mrz`` package; the printed
front is read by tesseract; the DNI/NIE check letter by python-stdnum. Where the MRZ
validates, its values win; the front's accented spelling of the names is kept when it says
the same. Each field comes with its confidence, the image it came from and its box, like a
form field, so that the person confirming sees where it was read.

Problems are flagged, never guessed: ``mrz_check_failed``, ``expired_document``,
``unreadable`` (with hints: ``blur``, ``glare``, ``crop``). Whether the name matches the
invitation or the number is already someone else's is for the caller to decide.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td3 import TD3CodeChecker
from PIL import Image, ImageFilter, ImageOps, ImageStat
from stdnum.es import dni as stdnum_dni
from stdnum.es import nie as stdnum_nie

from ocr.engine import TesseractEngine
from ocr.results import Box, PageText, Word, union_box

__all__ = [
    "IDENTITY_FIELDS",
    "MIN_SIDE",
    "IdentityField",
    "IdentityReading",
    "MrzReading",
    "parse_mrz",
    "read_identity",
]

#: The fields a reading proposes, in the order a person checks them.
IDENTITY_FIELDS = (
    "document_type",
    "document_number",
    "surnames",
    "given_names",
    "birth_date",
    "expiry_date",
    "nationality",
)
_MRZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_MRZ_ENGINE = TesseractEngine(
    lang="eng", psm=6, extra_config=f"-c tessedit_char_whitelist={_MRZ_ALPHABET}"
)
_TEXT_ENGINE = TesseractEngine(lang="spa", psm=3)
#: Letters tesseract gives for digits in places where the MRZ can only hold a digit.
_AS_DIGIT = str.maketrans(
    {
        "O": "0",
        "Q": "0",
        "D": "0",
        "U": "0",
        "I": "1",
        "L": "1",
        "Z": "2",
        "S": "5",
        "B": "8",
        "G": "6",
        "T": "7",
        "A": "4",
    }
)
_AS_LETTER = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "7": "T"})
_NUMBER = re.compile(r"\b([XYZ]\s?\d{7}\s?[A-Z0-9]|\d{8}\s?[A-Z0-9])\b")
#: The check letters of DNI/NIE that tesseract reads as a digit (or another letter).
_LETTER_FOR = {
    "3": "J",
    "1": "T",
    "5": "S",
    "8": "B",
    "0": "D",
    "2": "Z",
    "6": "G",
    "4": "A",
    "7": "T",
    "I": "T",
    "O": "D",
    "U": "V",
}
_DATE = re.compile(r"\b(\d{2})[ ./-](\d{2})[ ./-](\d{4})\b")
MIN_SIDE = 600  # pixels: a photo smaller than this cannot hold a readable MRZ


@dataclass(frozen=True, slots=True)
class IdentityField:
    """One value read off the document, and where."""

    value: str
    confidence: float  # 0-100
    source: str  # "mrz" or "front"
    image: int  # which of the images given (0: the first)
    box: Box


@dataclass(frozen=True, slots=True)
class MrzReading:
    """The machine-readable zone as read, and whether its check digits hold."""

    kind: str  # "TD1" or "TD3"
    lines: tuple[str, ...]
    valid: bool
    fields: dict[str, str]
    image: int
    box: Box
    confidence: float


@dataclass(frozen=True)
class IdentityReading:
    """What was read off an identity document, for a person to confirm."""

    fields: dict[str, IdentityField]
    mrz: MrzReading | None
    problems: tuple[str, ...]
    hints: tuple[str, ...] = ()
    text: tuple[str, ...] = field(default=(), repr=False)

    @property
    def mrz_valid(self) -> bool:
        """Whether an MRZ was found and all its check digits hold."""
        return self.mrz is not None and self.mrz.valid

    def values(self) -> dict[str, str]:
        """Field name to value."""
        return {name: found.value for name, found in self.fields.items()}


def read_identity(images: Sequence[Image.Image], *, today: date) -> IdentityReading:
    """Read the document shown on ``images`` (front first; a card's back second).

    Each image is read once by tesseract; only the lines that look like an MRZ are read
    again, alone, with the MRZ alphabet.
    """
    mrz: MrzReading | None = None
    hints: set[str] = set()
    prepared = [_prepare(image) for image in images]
    # The sides are read at the same time: each is its own tesseract process, so a person
    # waits for the slower side rather than for both in turn.
    with ThreadPoolExecutor(max_workers=max(1, min(len(prepared), 2))) as pool:
        pages = list(
            pool.map(
                lambda item: _TEXT_ENGINE.recognize(item[1], page_number=item[0] + 1),
                enumerate(prepared),
            )
        )
    for index, (image, page) in enumerate(zip(prepared, pages, strict=True)):
        if mrz is None or not mrz.valid:
            found = _read_mrz(image, page, index)
            if found is not None and (mrz is None or found.valid):
                mrz = found
        hints |= _quality_hints(image)
    front = _read_front(pages)
    if mrz is not None and not mrz.valid:
        mrz = _repaired_with_front(mrz, front) or mrz
    fields = _merge(front, mrz)
    if (
        mrz is None
        and "document_number" in fields
        and any("PASAPORTE" in _fold(p.text) or "PASSPORT" in _fold(p.text) for p in pages)
    ):
        printed = fields["document_number"]
        fields["document_type"] = IdentityField(
            "passport", printed.confidence, "front", printed.image, printed.box
        )
    problems: list[str] = []
    if mrz is not None and not mrz.valid:
        problems.append("mrz_check_failed")
    number = fields.get("document_number")
    if number is None or "surnames" not in fields or "birth_date" not in fields:
        problems.append("unreadable")
        if mrz is None and any(_looks_like_mrz_start(p) for p in pages):
            hints.add("crop")
        if not hints:
            hints.add("blur")
    expiry = fields.get("expiry_date")
    if expiry is not None and date.fromisoformat(expiry.value) < today:
        problems.append("expired_document")
    return IdentityReading(
        fields=fields,
        mrz=mrz,
        problems=tuple(problems),
        hints=tuple(sorted(hints)) if "unreadable" in problems else (),
        text=tuple(p.text for p in pages),
    )


def parse_mrz(lines: Sequence[str]) -> MrzReading | None:
    """Check MRZ ``lines`` (TD1 or TD3) as read, repairing only what the layout fixes.

    Filler runs that came out too short or too long are resized to the line's length, and
    letters in places that only hold digits (dates, check digits) are read as digits.
    """
    clean = [re.sub(r"[^A-Z0-9<]", "", line.upper()) for line in lines]
    clean = [line for line in clean if line]
    if len(clean) >= 3 and all(20 <= len(x) <= 36 for x in clean[-3:]):
        kind, width, rows = "TD1", 30, clean[-3:]
    elif len(clean) >= 2 and all(36 <= len(x) <= 50 for x in clean[-2:]):
        kind, width, rows = "TD3", 44, clean[-2:]
    else:
        return None
    fitted = [_fit(row, width) for row in rows]
    fitted = _digits_where_due(kind, fitted)
    text = "\n".join(fitted)
    try:
        checker = TD1CodeChecker(text) if kind == "TD1" else TD3CodeChecker(text)
        valid = bool(checker)
        raw = checker.fields()
    except Exception:  # noqa: BLE001 - the mrz package raises bare errors on odd lines
        return None
    fields = {
        "document_code": raw.document_type.replace("<", ""),
        "document_number": raw.document_number.replace("<", ""),
        "optional_data": raw.optional_data.replace("<", ""),
        "surnames": raw.surname.strip(),
        "given_names": raw.name.strip(),
        "nationality": raw.nationality.replace("<", ""),
        "birth_date": raw.birth_date,
        "expiry_date": raw.expiry_date,
    }
    return MrzReading(kind, tuple(fitted), valid, fields, 0, (0, 0, 0, 0), 0.0)


# ---------------------------------------------------------------- images


def _prepare(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image) or image
    gray = upright.convert("L")
    if min(gray.size) < MIN_SIDE:
        factor = MIN_SIDE / min(gray.size)
        gray = gray.resize((round(gray.width * factor), round(gray.height * factor)))
    return gray


def _quality_hints(image: Image.Image) -> set[str]:
    small = image.copy()
    small.thumbnail((800, 800))
    hints: set[str] = set()
    histogram = small.histogram()
    total = sum(histogram) or 1
    if sum(histogram[250:]) / total > 0.12:
        hints.add("glare")
    edges = ImageStat.Stat(small.filter(ImageFilter.FIND_EDGES))
    if edges.var[0] < 60:
        hints.add("blur")
    return hints


# ---------------------------------------------------------------- MRZ


def _mrz_like(text: str) -> bool:
    squeezed = text.replace(" ", "")
    return len(squeezed) >= 20 and (squeezed.count("<") >= 2 or "<<" in squeezed)


def _looks_like_mrz_start(page: PageText) -> bool:
    return any(re.match(r"^(ID|I<|P<|IR)[A-Z<]{3}", line.replace(" ", "")) for line in _lines(page))


def _read_mrz(image: Image.Image, page: PageText, index: int) -> MrzReading | None:
    candidates = [words for words in _line_words(page) if _mrz_like("".join(w.text for w in words))]
    if not candidates:
        return None
    first = ["".join(w.text for w in words) for words in candidates]
    found = parse_mrz(first)
    confidence = min((w.confidence for words in candidates for w in words), default=0.0)
    box = union_box(w.box for words in candidates[-3:] for w in words)
    if found is None or not found.valid:
        # Read the zone again alone with the MRZ alphabet, and try each line from either
        # reading: each pass misreads different characters, and the check digits tell which
        # combination is the one printed.
        pad = max(12, (box[3] - box[1]) // 6)
        box = (
            max(0, box[0] - 2 * pad),
            max(0, box[1] - pad),
            min(image.width, box[2] + 2 * pad),
            min(image.height, box[3] + pad),
        )
        read = _MRZ_ENGINE.recognize(image.crop(box))
        second = [line.replace(" ", "") for line in _lines(read) if line.strip()]
        confidence = min((w.confidence for w in read.words), default=0.0)
        for mix in _mixes([first, second]):
            tried = parse_mrz(mix)
            if tried is not None and (found is None or tried.valid):
                found = tried
                if tried.valid:
                    break
    if found is None:
        return None
    return MrzReading(
        found.kind,
        found.lines,
        found.valid,
        found.fields,
        index,
        box,
        round(max(confidence, 60.0) if found.valid else confidence, 1),
    )


#: Where a date sits in the MRZ's second line: (birth date, expiry date) starts.
_DATE_STARTS = {
    "TD1": {"birth_date": 0, "expiry_date": 8},
    "TD3": {"birth_date": 13, "expiry_date": 21},
}


def _repaired_with_front(mrz: MrzReading, front: dict[str, IdentityField]) -> MrzReading | None:
    """The MRZ read again with a date as the front prints it, where the two differ by one
    character (a 5 read as 3 in a photo): kept only when every check digit then passes.

    The front and the MRZ's own check digits are two readings that agree against the one
    misread character. A date changed on both sides (a forgery) differs in nothing here and
    stays flagged.
    """
    starts = _DATE_STARTS[mrz.kind]
    changes = []
    for name, start in starts.items():
        printed = front.get(name)
        if printed is None:
            continue
        wanted = date.fromisoformat(printed.value).strftime("%y%m%d")
        current = mrz.lines[1][start : start + 6]
        if sum(a != b for a, b in zip(current, wanted, strict=True)) == 1:
            changes.append((start, wanted))
    for count in range(1, len(changes) + 1):
        for chosen in itertools.combinations(changes, count):
            second = mrz.lines[1]
            for start, wanted in chosen:
                second = second[:start] + wanted + second[start + 6 :]
            lines = list(mrz.lines)
            lines[1] = second
            found = parse_mrz(lines)
            if found is not None and found.valid:
                return MrzReading(
                    found.kind,
                    found.lines,
                    True,
                    found.fields,
                    mrz.image,
                    mrz.box,
                    max(mrz.confidence, 60.0),
                )
    return None


def _mixes(readings: list[list[str]]) -> list[list[str]]:
    """The last reading whole, then every line-by-line mix of the readings' last lines."""
    mixes = [readings[-1]]
    for rows in (3, 2):
        tails = [reading[-rows:] for reading in readings if len(reading) >= rows]
        if len(tails) < 2:
            continue
        for choice in itertools.product(range(len(tails)), repeat=rows):
            mixes.append([tails[pick][row] for row, pick in enumerate(choice)])
    return mixes


def _fit(row: str, width: int) -> str:
    if len(row) == width:
        return row
    runs = [(m.start(), m.end()) for m in re.finditer(r"<+", row)]
    if not runs:
        return (row + "<" * width)[:width]
    start, end = max(runs, key=lambda r: r[1] - r[0])
    if start == 0 and len(runs) > 1:
        start, end = sorted(runs, key=lambda r: r[1] - r[0])[-2]
    length = max(1, end - start + width - len(row))
    fitted = row[:start] + "<" * length + row[end:]
    return (fitted + "<" * width)[:width]


def _digits(text: str) -> str:
    return text.translate(_AS_DIGIT)


def _letters(text: str) -> str:
    return text.translate(_AS_LETTER)


def _digits_where_due(kind: str, rows: list[str]) -> list[str]:
    if kind == "TD1":
        first, second, third = rows
        first = first[:2] + _letters(first[2:5]) + first[5:14] + _digits(first[14]) + first[15:]
        second = (
            _digits(second[:7])
            + second[7]
            + _digits(second[8:15])
            + _letters(second[15:18])
            + second[18:29]
            + _digits(second[29])
        )
        return [first, second, third]
    first, second = rows
    first = first[:2] + _letters(first[2:5]) + first[5:]
    second = (
        second[:9]
        + _digits(second[9])
        + _letters(second[10:13])
        + _digits(second[13:20])
        + second[20]
        + _digits(second[21:28])
        + second[28:42]
        + _digits(second[42:44])
    )
    return [first, second]


# ---------------------------------------------------------------- the printed front


def _line_words(page: PageText) -> list[list[Word]]:
    lines: dict[str, list[Word]] = {}
    for word in page.words:
        lines.setdefault(word.line_key, []).append(word)
    return sorted(
        lines.values(), key=lambda ws: (min(w.box[1] for w in ws), min(w.box[0] for w in ws))
    )


def _lines(page: PageText) -> list[str]:
    return [" ".join(w.text for w in words) for words in _line_words(page)]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


_LABELS = {
    "surnames": ("APELLIDOS", "SURNAME"),
    "given_names": ("NOMBRE", "GIVEN NAMES"),
    "birth_date": ("FECHA DE NACIMIENTO", "DATE OF BIRTH"),
    "expiry_date": ("VALIDO HASTA", "FECHA DE CADUCIDAD", "DATE OF EXPIRY"),
    "nationality": ("NACIONALIDAD", "NATIONALITY"),
}


def _read_front(pages: Sequence[PageText]) -> dict[str, IdentityField]:
    found: dict[str, IdentityField] = {}
    for index, page in enumerate(pages):
        lines = _line_words(page)
        for position, words in enumerate(lines):
            text = " ".join(w.text for w in words)
            folded = _fold(text)
            for name, labels in _LABELS.items():
                if name in found or not any(folded.startswith(label) for label in labels):
                    continue
                if position + 1 < len(lines):
                    below = lines[position + 1]
                    value = " ".join(w.text for w in below).strip()
                    if name.endswith("_date"):
                        value = _iso_date(value) or ""
                    if value:
                        found[name] = _field(value, below, "front", index)
            number = _number_in(text)
            if number and "document_number" not in found:
                hits = [w for w in words if re.sub(r"\W", "", w.text) in number or w.text in number]
                found["document_number"] = _field(number, hits or words, "front", index)
    return found


def _number_in(text: str) -> str | None:
    """A DNI/NIE whose check letter holds; one read as a look-alike is taken only if it checks.

    The check letter is a function of the digits, so a look-alike (a J read as 3) that makes
    it hold is the letter printed: there is exactly one letter that passes.
    """
    for match in _NUMBER.finditer(text.upper()):
        candidate = match.group(1).replace(" ", "")
        checker = stdnum_nie if candidate[0] in "XYZ" else stdnum_dni
        if checker.is_valid(candidate):
            return candidate
        repaired = candidate[:-1] + _LETTER_FOR.get(candidate[-1], candidate[-1])
        if repaired != candidate and checker.is_valid(repaired):
            return repaired
    return None


def _iso_date(text: str) -> str | None:
    match = _DATE.search(text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _field(value: str, words: Sequence[Word], source: str, index: int) -> IdentityField:
    confidence = min((w.confidence for w in words), default=0.0)
    return IdentityField(
        value, round(confidence, 1), source, index, union_box(w.box for w in words)
    )


# ---------------------------------------------------------------- both together


def _mrz_date(value: str, *, future: bool, today: date | None = None) -> str | None:
    if not re.fullmatch(r"\d{6}", value):
        return None
    year, month, day = int(value[:2]), int(value[2:4]), int(value[4:])
    pivot = (today or date.today()).year % 100
    century = 2000 if (future or year <= pivot) else 1900
    try:
        return date(century + year, month, day).isoformat()
    except ValueError:
        return None


def _merge(front: dict[str, IdentityField], mrz: MrzReading | None) -> dict[str, IdentityField]:
    fields = dict(front)
    number = front.get("document_number")
    kind = None
    if number is not None:
        kind = "nie" if number.value[0] in "XYZ" else "dni"
    if mrz is not None and mrz.valid:
        from_mrz = _mrz_fields(mrz)
        for name, value in from_mrz.items():
            printed = front.get(name)
            if printed is not None and _fold(printed.value) == _fold(value):
                # The same, with the accents the MRZ cannot hold: keep the printed spelling.
                fields[name] = IdentityField(
                    printed.value,
                    max(printed.confidence, mrz.confidence),
                    "mrz",
                    mrz.image,
                    mrz.box,
                )
            elif printed is not None and name in _UNCHECKED:
                # No check digit covers names: when the two readings differ, the printed
                # line (accents and all) is proposed, at a confidence that asks for a look.
                fields[name] = IdentityField(
                    printed.value,
                    min(printed.confidence, 50.0),
                    "front",
                    printed.image,
                    printed.box,
                )
            else:
                fields[name] = IdentityField(value, mrz.confidence, "mrz", mrz.image, mrz.box)
        if mrz.kind == "TD3":
            kind = "passport"
        elif "document_number" in from_mrz:
            kind = "nie" if from_mrz["document_number"][0] in "XYZ" else "dni"
    if kind is not None:
        source = fields.get("document_number")
        fields["document_type"] = IdentityField(
            kind,
            source.confidence if source else 50.0,
            source.source if source else "front",
            source.image if source else 0,
            source.box if source else (0, 0, 0, 0),
        )
    kind_field = fields.get("document_type")
    if kind_field is not None and kind_field.value == "dni" and "nationality" not in fields:
        # Only Spanish nationals hold a DNI (a foreigner's card is a NIE): not a guess.
        fields["nationality"] = IdentityField(
            "ESP", kind_field.confidence, kind_field.source, kind_field.image, kind_field.box
        )
    return {name: fields[name] for name in IDENTITY_FIELDS if name in fields}


_UNCHECKED = ("surnames", "given_names")


def _mrz_fields(mrz: MrzReading) -> dict[str, str]:
    values = mrz.fields
    out: dict[str, str] = {}
    personal = values["optional_data"]
    candidate = _number_in(personal) if personal else None
    if candidate is None and mrz.kind == "TD3":
        candidate = values["document_number"] or None
    if candidate:
        out["document_number"] = candidate
    for name in ("surnames", "given_names", "nationality"):
        if values[name]:
            out[name] = values[name]
    born = _mrz_date(values["birth_date"], future=False)
    if born:
        out["birth_date"] = born
    expiry = _mrz_date(values["expiry_date"], future=True)
    if expiry:
        out["expiry_date"] = expiry
    return out
