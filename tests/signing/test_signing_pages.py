"""Stamps placed on the page's own box, found by walking the page tree from the end."""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from signing import InternalCaSigner, PageBox, SignOptions, StampSpec, sign_pdf, validate_pdf
from signing._pdfio import open_writer


def _raw_pdf(objects: dict[int, bytes]) -> bytes:
    """A classic PDF with an xref table from numbered object bodies (object 1 is the catalog)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def nested_pdf() -> bytes:
    """Seven pages in a nested page tree; the boxes and resources are inherited differently.

    root (2) -> [branch A (3): pages 10, 11, 12] page 13 [branch B (4) -> [branch C (5):
    page 14] page 15 page 16]. Branch B carries an offset MediaBox and its own resources.
    """
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"

    def page(parent: int, number: int, extra: bytes = b"") -> bytes:
        return b"<< /Type /Page /Parent %d 0 R /Contents %d 0 R %s>>" % (
            parent,
            number + 20,
            extra,
        )

    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R 13 0 R 4 0 R] /Count 7 /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 6 0 R >> >> >>",
        3: b"<< /Type /Pages /Parent 2 0 R /Kids [10 0 R 11 0 R 12 0 R] /Count 3 >>",
        4: b"<< /Type /Pages /Parent 2 0 R /Kids [5 0 R 15 0 R 16 0 R] /Count 3"
        b" /MediaBox [100 200 712 992] /Resources << /Font << /F2 6 0 R >> >> >>",
        5: b"<< /Type /Pages /Parent 4 0 R /Kids [14 0 R] /Count 1 >>",
        6: font,
        10: page(3, 10),
        11: page(3, 11, b"/MediaBox [0 0 842 595] "),
        12: page(3, 12),
        13: page(2, 13),
        14: page(5, 14),
        15: page(4, 15),
        16: page(4, 16, b"/Resources << /Font << /F3 6 0 R >> >> "),
    }
    for number in range(10, 17):
        content = b"BT /F1 12 Tf 120 400 Td (Page object %d) Tj ET" % number
        objects[number + 20] = (
            b"<< /Length %d >>\nstream\n" % len(content) + content + (b"\nendstream")
        )
    for number in range(7, 10):
        objects[number] = b"null"
    for number in range(17, 30):
        objects.setdefault(number, b"null")
    return _raw_pdf(objects)


def test_pages_from_the_end_are_the_pages_pyhanko_finds_from_the_start() -> None:
    data = nested_pdf()
    ours = open_writer(data)
    theirs = IncrementalPdfFileWriter(BytesIO(data))
    for position in range(1, 8):
        page_ref, resources = ours.find_page_for_modification(-position)
        expected_ref, expected_resources = theirs.find_page_for_modification(7 - position)
        assert page_ref.reference == expected_ref.reference
        assert resources.get_object() == expected_resources.get_object()
    with pytest.raises(Exception, match="out of range"):
        ours.find_page_for_modification(-8)


@pytest.mark.parametrize(
    ("page", "page_box"),
    [
        (-1, (100.0, 200.0, 712.0, 992.0)),  # inherited from branch B, offset origin
        (-4, (0.0, 0.0, 595.0, 842.0)),  # inherited from the root
        (1, (0.0, 0.0, 842.0, 595.0)),  # the page's own, landscape
    ],
)
def test_a_stamp_layout_is_placed_on_the_page_box(
    client: InternalCaSigner, page: int, page_box: PageBox
) -> None:
    seen: list[PageBox] = []

    def bottom_right(box: PageBox) -> tuple[int, int, int, int]:
        seen.append(box)
        left, bottom, right, _top = box
        return (int(right) - 206, int(bottom) + 36, int(right) - 36, int(bottom) + 98)

    signed = sign_pdf(
        nested_pdf(), client, SignOptions(stamp=StampSpec(page=page, box=bottom_right))
    )

    assert seen == [page_box]
    reader = PdfReader(BytesIO(signed))
    annotated = [number for number, p in enumerate(reader.pages) if "/Annots" in p]
    assert annotated == [page % 7]
    (widget,) = [a.get_object() for a in reader.pages[page % 7]["/Annots"]]
    left, bottom, right, _top = page_box
    expected = [right - 206, bottom + 36, right - 36, bottom + 98]
    assert [float(value) for value in widget["/Rect"]] == expected
    assert validate_pdf(signed, trust_roots=()).signatures[0].intact
