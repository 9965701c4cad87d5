"""Where visible signatures go: every signer's stamp on the page, none over another."""

from __future__ import annotations

from functools import partial
from io import BytesIO
from itertools import combinations

import pytest
from pypdf import PdfReader, PdfWriter

from signing import (
    STAMP_HEIGHT,
    STAMP_MARGIN,
    STAMP_WIDTH,
    InternalCaSigner,
    PageBox,
    SignOptions,
    StampSpec,
    page_boxes,
    sign_pdf,
    stamp_box,
    validate_pdf,
)

A4 = (0.0, 0.0, 595.0, 842.0)
A4_LANDSCAPE = (0.0, 0.0, 842.0, 595.0)

Box = tuple[int, int, int, int]


def _blank_pdf(*sizes: tuple[float, float]) -> bytes:
    writer = PdfWriter()
    for width, height in sizes:
        writer.add_blank_page(width=width, height=height)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside_margins(box: Box, page: PageBox) -> bool:
    left, bottom, right, top = page
    return (
        box[0] >= left + STAMP_MARGIN
        and box[2] <= right - STAMP_MARGIN
        and box[1] >= bottom + STAMP_MARGIN
        and box[3] <= top - STAMP_MARGIN
    )


@pytest.mark.parametrize("position", ["bottom", "top"])
@pytest.mark.parametrize("page", [A4, A4_LANDSCAPE, (100.0, 200.0, 712.0, 992.0)])
def test_ten_signers_get_ten_separate_stamps_inside_the_page(position: str, page: PageBox) -> None:
    boxes = [stamp_box(page, position=position, index=index) for index in range(10)]

    assert all(_inside_margins(box, page) for box in boxes)
    assert not any(_overlap(a, b) for a, b in combinations(boxes, 2))
    assert all((box[2] - box[0], box[3] - box[1]) == (STAMP_WIDTH, STAMP_HEIGHT) for box in boxes)


def test_stamps_fill_a_row_then_start_the_next_one_away_from_the_edge() -> None:
    portrait = [stamp_box(A4, position="bottom", index=index) for index in range(3)]
    landscape = [stamp_box(A4_LANDSCAPE, position="bottom", index=index) for index in range(5)]

    # Two stamps fit across a portrait A4 page, four across a landscape one.
    assert [box[1] for box in portrait] == [36, 36, 108]
    assert [box[1] for box in landscape] == [36, 36, 36, 36, 108]
    assert portrait[2][0] == portrait[0][0] == STAMP_MARGIN


def test_top_stamps_hang_from_the_top_of_the_page() -> None:
    first, _second, third = (stamp_box(A4, position="top", index=index) for index in range(3))

    assert first == (36, 744, 206, 806)
    assert third[3] < first[1]  # the second row is below the first


def test_a_page_narrower_than_one_stamp_still_gets_one_stamp_per_row() -> None:
    narrow = (0.0, 0.0, 200.0, 842.0)

    boxes = [stamp_box(narrow, position="bottom", index=index) for index in range(3)]

    assert [box[0] for box in boxes] == [36, 36, 36]
    assert not any(_overlap(a, b) for a, b in combinations(boxes, 2))


def test_page_boxes_are_read_page_by_page() -> None:
    pdf = _blank_pdf((595, 842), (842, 595), (612, 792))

    assert page_boxes(pdf) == (A4, A4_LANDSCAPE, (0.0, 0.0, 612.0, 792.0))


def test_a_file_that_is_not_a_pdf_has_no_known_pages() -> None:
    assert page_boxes(b"") == ()
    assert page_boxes(b"not a PDF at all") == ()


def test_the_second_signers_stamp_lands_beside_the_first_on_the_signed_page(
    client: InternalCaSigner,
) -> None:
    pdf = _blank_pdf((842, 595))
    layout = partial(stamp_box, position="bottom", index=1)

    signed = sign_pdf(pdf, client, SignOptions(stamp=StampSpec(page=0, box=layout)))

    (widget,) = [a.get_object() for a in PdfReader(BytesIO(signed)).pages[0]["/Annots"]]
    expected = stamp_box(A4_LANDSCAPE, position="bottom", index=1)
    assert tuple(int(float(value)) for value in widget["/Rect"]) == expected
    assert validate_pdf(signed, trust_roots=()).signatures[0].intact
