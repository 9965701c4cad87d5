"""The compare of two versions against drawings and contracts whose changes are known."""

from __future__ import annotations

from pathlib import Path

import ezdxf
import pytest
from compare_samples import (
    CLAUSES,
    KNOWN,
    contract,
    mm_box,
    overlaps,
    plan_set,
    precision_recall,
)
from PIL import Image

from previews import CorruptFile, PreviewKind, UnsupportedFile
from previews.compare import CompareLimits, compare, compare_contained, compare_dxf

PDF = PreviewKind.pdf
#: low resolution keeps the tests fast; the bench runs A1 sheets at 150 dpi
DPI = 72.0
LIMITS = CompareLimits(dpi=DPI, image_side=600)
#: three pixels at the compare's resolution, in millimetres
THREE_PX = 3 / DPI * 25.4


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compare")


@pytest.fixture(scope="module")
def original(folder: Path) -> Path:
    return plan_set(folder / "A.pdf", [1, 2, 3])


def _boxes(page) -> list[tuple[float, float, float, float]]:  # type: ignore[no-untyped-def]
    return [area.box for area in page.changed_areas]


@pytest.mark.parametrize(
    "changed", [["moved_wall"], ["new_dimension"], ["removed_door"], list(KNOWN)]
)
def test_known_changes_are_found_and_nothing_else(
    original: Path, folder: Path, changed: list[str]
) -> None:
    revised = plan_set(folder / f"B-{'-'.join(changed)}.pdf", [1, 2, 3], {2: changed})
    result = compare(original, PDF, revised, PDF, limits=LIMITS)

    assert [(p.from_page, p.to_page) for p in result.pages] == [(1, 1), (2, 2), (3, 3)]
    first, second, third = result.pages
    assert _boxes(first) == [] and _boxes(third) == []
    known = [mm_box(KNOWN[name]) for name in changed]
    precision, recall = precision_recall(_boxes(second), known)
    assert precision >= 0.95 and recall >= 0.95, (_boxes(second), known)
    if "new_dimension" in changed:
        assert [w.text for w in second.words_added] == ["4.00"]
        assert overlaps(second.words_added[0].box, mm_box(KNOWN["new_dimension"]), 0)


def test_a_plot_shifted_and_scaled_slightly_has_no_changes(original: Path, folder: Path) -> None:
    replot = plan_set(folder / "replot.pdf", [1, 2, 3], shift_mm=(THREE_PX, THREE_PX), scale=1.005)
    result = compare(original, PDF, replot, PDF, limits=LIMITS)

    assert [(p.from_page, p.to_page) for p in result.pages] == [(1, 1), (2, 2), (3, 3)]
    assert [_boxes(p) for p in result.pages] == [[], [], []]
    assert not result.changed
    # the alignment found the shift and the scale (as fractions of the page)
    (a, _b, c), (_d, e, f) = result.pages[0].transform or []
    assert a == pytest.approx(1 / 1.005, abs=0.002) and e == pytest.approx(1 / 1.005, abs=0.002)
    assert c < 0 and f < 0


def test_shifted_plot_with_changes_finds_them(original: Path, folder: Path) -> None:
    revised = plan_set(
        folder / "replot-changed.pdf",
        [1, 2, 3],
        {3: list(KNOWN)},
        shift_mm=(THREE_PX, -THREE_PX),
        scale=0.995,
    )
    result = compare(original, PDF, revised, PDF, limits=LIMITS)

    assert [_boxes(p) for p in result.pages[:2]] == [[], []]
    precision, recall = precision_recall(
        _boxes(result.pages[2]), [mm_box(box) for box in KNOWN.values()]
    )
    assert precision >= 0.95 and recall >= 0.95


def test_pages_inserted_removed_and_reordered_are_matched_by_content(
    original: Path, folder: Path
) -> None:
    inserted = plan_set(folder / "inserted.pdf", [1, 4, 2, 3])
    result = compare(original, PDF, inserted, PDF, limits=LIMITS)
    assert [(p.from_page, p.to_page) for p in result.pages] == [(1, 1), (None, 2), (2, 3), (3, 4)]
    assert [bool(p.changed_areas) for p in result.pages] == [False, False, False, False]
    assert result.pages[1].changed and "PLANTA" in [w.text for w in result.pages[1].words_added]

    swapped = plan_set(folder / "swapped.pdf", [2, 1, 3])
    result = compare(original, PDF, swapped, PDF, limits=LIMITS)
    assert [(p.from_page, p.to_page) for p in result.pages] == [(2, 1), (1, 2), (3, 3)]
    assert [_boxes(p) for p in result.pages] == [[], [], []]

    reordered = plan_set(folder / "reordered.pdf", [3, 1])
    result = compare(original, PDF, reordered, PDF, limits=LIMITS)
    assert [(p.from_page, p.to_page) for p in result.pages] == [(3, 1), (1, 2), (2, None)]
    assert [_boxes(p) for p in result.pages] == [[], [], []]


def test_a_changed_clause_gives_its_words_and_their_place(folder: Path) -> None:
    before = contract(folder / "contrato-1.pdf")
    clauses = list(CLAUSES)
    clauses[1] = clauses[1].replace("treinta (30)", "sesenta (60)")
    after = contract(folder / "contrato-2.pdf", clauses)
    result = compare(before, PDF, after, PDF, folder / "contract-images", LIMITS)

    (page,) = result.pages
    assert [w.text for w in page.words_removed] == ["treinta", "(30)"]
    assert [w.text for w in page.words_added] == ["sesenta", "(60)"]
    # the changed areas are on the changed clause's line (the rest of it moved over), and
    # cover the words
    words = [w.box for w in page.words_added + page.words_removed]
    line = (20 / 210, min(b[1] for b in words), 190 / 210, max(b[3] for b in words))
    precision, recall = precision_recall([a.box for a in page.changed_areas], [line])
    assert precision == 1.0 and recall == 1.0
    for word in page.words_added:
        assert any(overlaps(area.box, word.box, 0) for area in page.changed_areas)
    assert set(page.images) == {"overlay", "from", "to"}


def test_images_are_compared_as_one_page(folder: Path) -> None:
    picture = Image.new("RGB", (400, 300), "white")
    picture.paste((200, 30, 30), (50, 50, 150, 120))
    old = folder / "artwork-1.png"
    picture.save(old)
    picture.paste((30, 30, 200), (250, 180, 330, 260))
    new = folder / "artwork-2.jpg"
    picture.save(new, quality=90)
    result = compare(old, PreviewKind.image, new, PreviewKind.image, limits=LIMITS)

    (page,) = result.pages
    precision, recall = precision_recall(
        _boxes(page), [(250 / 400, 180 / 300, 330 / 400, 260 / 300)]
    )
    assert precision == 1.0 and recall == 1.0


def test_dxf_entities_added_removed_and_changed(folder: Path) -> None:
    drawing = ezdxf.new()
    model = drawing.modelspace()
    wall = model.add_line((0, 0), (0, 300), dxfattribs={"layer": "MUROS"})
    door = model.add_arc((50, 0), 40, 0, 90, dxfattribs={"layer": "PUERTAS"})
    model.add_circle((150, 150), 20)
    drawing.saveas(folder / "planta-1.dxf")
    wall.dxf.end = (0, 350)
    door.destroy()
    added = model.add_text("COTA 4.00", dxfattribs={"layer": "COTAS", "insert": (100, 320)})
    drawing.saveas(folder / "planta-2.dxf")

    changes = compare_dxf(folder / "planta-1.dxf", folder / "planta-2.dxf")
    assert changes.matched_by == "handle"
    assert [(e.type, e.layer) for e in changes.added] == [("TEXT", "COTAS")]
    assert changes.added[0].handle == added.dxf.handle
    assert [(e.type, e.layer) for e in changes.removed] == [("ARC", "PUERTAS")]
    assert [(e.type, e.layer) for e in changes.changed] == [("LINE", "MUROS")]
    assert changes.changed[0].extents == pytest.approx((0, 0, 0, 350))


def test_contained_compare_writes_images_and_reports_bad_files(
    original: Path, folder: Path
) -> None:
    revised = plan_set(folder / "B-contained.pdf", [1, 2, 3], {1: ["removed_door"]})
    output = folder / "contained"
    result = compare_contained(original, PDF, revised, PDF, output, LIMITS)
    assert [len(p.changed_areas) for p in result.pages] == [1, 0, 0]
    first = result.pages[0]
    with Image.open(output / first.images["overlay"]) as overlay:
        assert overlay.size == first.image_size
        # the removed door is drawn in red on the overlay
        x0, y0, x1, y1 = first.changed_areas[0].box
        crop = overlay.convert("RGB").crop(
            (x0 * overlay.width, y0 * overlay.height, x1 * overlay.width, y1 * overlay.height)
        )
        assert any(r > 150 and g < 100 and b < 100 for r, g, b in crop.getdata())

    broken = folder / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 not really")
    with pytest.raises(CorruptFile):
        compare_contained(original, PDF, broken, PDF, folder / "broken", LIMITS)
    with pytest.raises(UnsupportedFile):
        compare(original, PDF, folder / "planta-1.dxf", PreviewKind.dxf, limits=LIMITS)
