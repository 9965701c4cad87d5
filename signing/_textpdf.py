"""A minimal text-only PDF writer for reports (internal; no extra dependency)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

__all__ = ["Line", "render_text_pdf"]

Line = tuple[str, str]
"""A line of text and its style: ``"title"``, ``"heading"``, ``"bold"`` or ``"text"``."""

_PAGE = (0, 0, 595, 842)  # A4 in points
_MARGIN = 56
_STYLES = {
    "title": ("/F2", 16, 26),
    "heading": ("/F2", 12, 20),
    "bold": ("/F2", 10, 14),
    "text": ("/F1", 10, 14),
}
_WRAP = {"title": 60, "heading": 80, "bold": 95, "text": 95}


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _font(writer: PdfFileWriter, base_font: str) -> generic.IndirectObject:
    return writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name(base_font),
                pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
            }
        )
    )


def render_text_pdf(
    lines: Sequence[Line],
    *,
    title: str,
    page_footer: str = "%(title)s - page %(number)s of %(total)s",
) -> bytes:
    """Lay the lines out top to bottom on as many A4 pages as needed."""
    writer = PdfFileWriter()
    writer.set_info(generic.DictionaryObject({pdf_name("/Title"): generic.TextStringObject(title)}))
    resources = generic.DictionaryObject(
        {
            pdf_name("/Font"): generic.DictionaryObject(
                {
                    pdf_name("/F1"): _font(writer, "/Helvetica"),
                    pdf_name("/F2"): _font(writer, "/Helvetica-Bold"),
                }
            )
        }
    )
    wrapped: list[Line] = []
    for text, style in lines:
        pieces = textwrap.wrap(text, _WRAP[style]) or [""]
        wrapped.extend((piece, style) for piece in pieces)

    pages: list[bytes] = []
    chunks: list[bytes] = []
    y = _PAGE[3] - _MARGIN
    for text, style in wrapped:
        font, size, leading = _STYLES[style]
        if y - leading < _MARGIN:
            pages.append(b"\n".join(chunks))
            chunks, y = [], _PAGE[3] - _MARGIN
        y -= leading
        chunks.append(
            b"BT %s %d Tf %d %d Td (%s) Tj ET" % (font.encode(), size, _MARGIN, y, _escape(text))
        )
    pages.append(b"\n".join(chunks))
    for number, body in enumerate(pages, start=1):
        footer = b"BT /F1 8 Tf %d %d Td (%s) Tj ET" % (
            _MARGIN,
            _MARGIN // 2,
            _escape(page_footer % {"title": title, "number": number, "total": len(pages)}),
        )
        stream = generic.StreamObject(stream_data=body + b"\n" + footer)
        stream.compress()
        writer.insert_page(
            PageObject(contents=writer.add_object(stream), media_box=_PAGE, resources=resources)
        )
    output = BytesIO()
    writer.write(output)
    return output.getvalue()
