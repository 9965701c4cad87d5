"""Page geometry for visible signatures: page sizes and where each signer's stamp goes."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Types only: importing signing.sign loads pyHanko, which page counting does not need.
    from signing.sign import Box, PageBox

__all__ = [
    "STAMP_GAP",
    "STAMP_HEIGHT",
    "STAMP_MARGIN",
    "STAMP_WIDTH",
    "page_boxes",
    "stamp_box",
]

# One box per signer, in rows along the bottom (or top) of the page, in PDF points.
STAMP_WIDTH = 170
STAMP_HEIGHT = 62
STAMP_MARGIN = 36
STAMP_GAP = 10


def stamp_box(page_box: PageBox, *, position: str, index: int) -> Box:
    """The ``index``-th signer's stamp on a page: boxes in a row along its bottom (or top).

    ``position`` is ``"top"`` or anything else for the bottom; a row holds as many
    stamps as fit between the margins (at least one), then the next row starts.
    """
    left, bottom, right, top = page_box
    per_row = max(
        1, int((right - left - 2 * STAMP_MARGIN + STAMP_GAP) // (STAMP_WIDTH + STAMP_GAP))
    )
    row, column = divmod(index, per_row)
    x0 = left + STAMP_MARGIN + column * (STAMP_WIDTH + STAMP_GAP)
    if position == "top":
        y1 = top - STAMP_MARGIN - row * (STAMP_HEIGHT + STAMP_GAP)
        y0 = y1 - STAMP_HEIGHT
    else:
        y0 = bottom + STAMP_MARGIN + row * (STAMP_HEIGHT + STAMP_GAP)
    return (int(x0), int(y0), int(x0 + STAMP_WIDTH), int(y0 + STAMP_HEIGHT))


def page_boxes(data: bytes) -> tuple[PageBox, ...]:
    """Each page's MediaBox (left, bottom, right, top); empty when the PDF cannot be read.

    Callers use it to count pages and size stamps before signing, so an unreadable
    file answers "no pages known" rather than raising: the signing step refuses it
    with a proper error later.
    """
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        return tuple(
            (
                float(page.mediabox.left),
                float(page.mediabox.bottom),
                float(page.mediabox.right),
                float(page.mediabox.top),
            )
            for page in reader.pages
        )
    except Exception:  # noqa: BLE001 - default page size when pypdf cannot read it
        return ()
