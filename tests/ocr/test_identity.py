"""Identity documents read as a phone sends them: fields, check digits, and what is flagged."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

import pytest
from identity_samples import identity_document, photographed
from PIL import Image

from ocr.identity import parse_mrz, read_identity

TODAY = date(2026, 12, 6)


def _fold(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _images(sample) -> list[Image.Image]:
    return [sample.front] + ([sample.back] if sample.back else [])


def _sample(seed: int, kind: str, **options):
    rng = random.Random(seed)
    return rng, identity_document(rng, kind=kind, today=TODAY, **options)


@pytest.mark.parametrize("kind", ["dni", "nie", "passport"])
def test_scanned_documents_are_read_with_their_mrz_checked(kind):
    # OCR is not perfect: most are read whole; one whose MRZ is misread is flagged, and
    # a value is never proposed that disagrees with a valid MRZ.
    valid = 0
    for seed in range(3):
        _rng, sample = _sample(seed, kind)
        reading = read_identity(_images(sample), today=TODAY)
        if not reading.mrz_valid:
            assert "mrz_check_failed" in reading.problems
            continue
        valid += 1
        assert reading.problems == ()
        values = reading.values()
        for name, expected in sample.expected.items():
            if name != "nationality":  # no check digit covers it on a card
                assert _fold(values.get(name)) == _fold(expected), (seed, name)
        number = reading.fields["document_number"]
        assert number.source == "mrz" and number.confidence >= 60
        x0, y0, x1, y1 = number.box
        assert x1 > x0 and y1 > y0  # the box drawn on the photo
    assert valid >= 2


@pytest.mark.parametrize("kind", ["dni", "passport"])
def test_phone_photos_turned_and_skewed_are_read(kind):
    read = 0
    for seed in range(3):
        rng, sample = _sample(seed, kind)
        photos = [photographed(image, rng) for image in _images(sample)]
        reading = read_identity(photos, today=TODAY)
        if reading.mrz_valid:
            read += 1
            assert reading.values()["document_number"] == sample.expected["document_number"]
    # A passport page photographed whole is read less often than a card (its MRZ is
    # smaller in the photo); what is not read is flagged, never guessed.
    assert read >= {"dni": 2, "passport": 1}[kind]


def test_a_date_misread_in_a_photographed_mrz_is_taken_from_the_front_when_its_check_agrees():
    # seed 650278: the photo's MRZ reads the birth date 590807 as 390807 (5 as 3), which
    # failed the check and flagged a genuine card as forged
    rng = random.Random(650278)
    sample = identity_document(rng, kind="dni", today=date(2026, 12, 7))
    photos = [photographed(image, rng) for image in _images(sample)]
    reading = read_identity(photos, today=TODAY)
    assert reading.mrz_valid and "mrz_check_failed" not in reading.problems
    assert reading.values()["birth_date"] == sample.expected["birth_date"]
    assert reading.values()["document_number"] == sample.expected["document_number"]


def test_accents_the_mrz_cannot_hold_are_kept_from_the_printed_front():
    _rng, sample = _sample(0, "dni", surnames="MUÑOZ PÉREZ", given_names="ÁNGEL")
    reading = read_identity(_images(sample), today=TODAY)
    assert reading.mrz_valid
    assert _fold(reading.values()["surnames"]) == "MUNOZ PEREZ"
    assert reading.mrz is not None and "MUNOZ<PEREZ" in reading.mrz.lines[2]


def test_an_expired_card_is_flagged_not_refused():
    _rng, sample = _sample(0, "dni", expired=True)
    reading = read_identity(_images(sample), today=TODAY)
    assert "expired_document" in reading.problems
    assert date.fromisoformat(reading.values()["expiry_date"]) < TODAY
    assert reading.values()["document_number"] == sample.expected["document_number"]


def test_a_forged_mrz_fails_its_check_digits():
    _rng, sample = _sample(0, "dni", forged=True)
    reading = read_identity(_images(sample), today=TODAY)
    assert "mrz_check_failed" in reading.problems
    assert not reading.mrz_valid


def test_a_picture_with_no_document_is_unreadable_with_a_hint():
    blank = Image.new("RGB", (1200, 800), (250, 250, 250))
    reading = read_identity([blank], today=TODAY)
    assert "unreadable" in reading.problems
    assert reading.hints  # glare, blur or crop: what to do better next time
    assert reading.fields.get("document_number") is None


def test_a_blurred_photo_is_unreadable_and_says_so():
    rng, sample = _sample(3, "dni")
    photos = [photographed(image, rng, blur=9) for image in _images(sample)]
    reading = read_identity(photos, today=TODAY)
    assert "unreadable" in reading.problems
    assert "blur" in reading.hints


def test_mrz_lines_with_misread_fillers_and_digits_are_repaired_only_as_the_layout_says():
    _rng, sample = _sample(4, "passport")
    first, second = sample.mrz.splitlines()
    # Tesseract's usual slips: a filler run one short, an O for a 0 in the birth date.
    slipped = [
        first.replace("<<<<<", "<<<<", 1),
        second[:13] + second[13:19].replace("0", "O") + second[19:],
    ]
    found = parse_mrz(slipped)
    assert found is not None and found.valid
    assert found.lines == (first, second)
    # A changed digit is not "repaired": the check digits say it is wrong.
    tampered = second[:13] + ("1" if second[13] != "1" else "2") + second[14:]
    assert not parse_mrz([first, tampered]).valid
