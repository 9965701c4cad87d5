"""Dates in Spanish formats and calendar months (a payslip's period) in OCR text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ocr.matches import Match, TextSource, fold, match_at, prepare

__all__ = ["Period", "find_dates", "find_periods"]


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
    prepared = prepare(source)
    folded = fold(prepared.text)
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
        found.append(match_at(prepared, "date", value, hit.start(), hit.end()))
    for hit in _TEXT_DATE.finditer(folded):
        try:
            value = date(int(hit.group(3)), _MONTHS[hit.group(2)], int(hit.group(1)))
        except ValueError:
            continue
        found.append(match_at(prepared, "date", value, hit.start(), hit.end()))
    return sorted(found, key=lambda m: m.span)


def find_periods(source: TextSource) -> list[Match[Period]]:
    """Find months like ``mayo 2024``, ``mayo de 2024``, ``05/2024`` or a whole-month date range."""
    prepared = prepare(source)
    folded = fold(prepared.text)
    found: list[Match[Period]] = []
    day_spans = [m.span for m in find_dates(prepared.text)]
    for hit in _TEXT_PERIOD.finditer(folded):
        if any(a <= hit.start() < b for a, b in day_spans):
            continue
        value = Period(int(hit.group(2)), _MONTHS[hit.group(1)])
        found.append(match_at(prepared, "period", value, hit.start(), hit.end()))
    for hit in _NUMERIC_PERIOD.finditer(folded):
        if 1 <= int(hit.group(1)) <= 12:
            value = Period(int(hit.group(2)), int(hit.group(1)))
            found.append(match_at(prepared, "period", value, hit.start(), hit.end()))
    dates = find_dates(prepared.text)
    for first, second in zip(dates, dates[1:], strict=False):
        between = prepared.text[first.span[1] : second.span[0]]
        if "\n" in between or len(between) > 12:
            continue
        period = Period(first.value.year, first.value.month)
        if first.value == period.start and second.value == period.end:
            found.append(match_at(prepared, "period", period, first.span[0], second.span[1]))
    return sorted(found, key=lambda m: m.span)
