"""Amounts in Spanish format (``1.234,56 €``) in OCR text, and the payslip's balance check."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ocr.matches import Match, TextSource, match_at, prepare

__all__ = ["find_amounts", "format_amount", "parse_amount", "payslip_balances"]

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
    prepared = prepare(source)
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
        found.append(match_at(prepared, "amount", value, start, hit.end(), corrections))
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
