"""Letters to be signed (an engagement letter, an addendum) as PDF/A-2B.

A letter signed today must still be readable and verifiable in twenty years, so it is
written as PDF/A-2B: every font embedded, an sRGB output intent and the XMP identification
(fpdf2 checks and writes them), with room left at the bottom of the last page for the
visible signature stamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from signing.errors import SigningError

__all__ = ["Letter", "render_letter"]

_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
_FONTS = {
    "": ("LiberationSerif-Regular.ttf", "DejaVuSerif.ttf", "DejaVuSans.ttf"),
    "B": ("LiberationSerif-Bold.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSans-Bold.ttf"),
}


@dataclass(frozen=True)
class Letter:
    """What a letter says: a title, paragraphs, and who issues it."""

    title: str
    paragraphs: Sequence[str]
    issuer: str
    subject: str = ""
    language: str = "es"


@cache
def _font_file(style: str) -> str:
    for name in _FONTS[style]:
        for root in _FONT_DIRS:
            found = sorted(Path(root).rglob(name))
            if found:
                return str(found[0])
    raise SigningError("no TrueType font to embed in a PDF/A letter (install fonts-liberation)")


def render_letter(letter: Letter) -> bytes:
    """The letter as PDF/A-2B bytes."""
    # fpdf2 brings numpy and fontTools: loaded when a letter is made, not with the web process.
    from fpdf import FPDF

    pdf = FPDF(format="A4", enforce_compliance="PDFA_2B")
    pdf.set_lang(letter.language)
    pdf.set_title(letter.title)
    pdf.set_author(letter.issuer)
    pdf.set_creator(letter.issuer)
    if letter.subject:
        pdf.set_subject(letter.subject)
    for style in _FONTS:
        pdf.add_font("Letter", style, _font_file(style))
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(True, margin=25)
    pdf.add_page()
    pdf.set_font("Letter", "B", 15)
    pdf.multi_cell(0, 8, letter.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Letter", "", 11)
    for paragraph in letter.paragraphs:
        text = paragraph.strip()
        if not text:
            continue
        if text.startswith("## "):
            pdf.set_font("Letter", "B", 12)
            pdf.multi_cell(0, 6.5, text[3:], new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Letter", "", 11)
        else:
            pdf.multi_cell(0, 5.8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2.5)
    # The signature stamps go at the bottom of the last page: keep 55 mm clear for them.
    if pdf.get_y() > pdf.h - 25 - 55:
        pdf.add_page()
    return bytes(pdf.output())
