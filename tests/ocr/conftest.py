"""Fixtures for the OCR tests: a freshly generated corpus of Spanish documents, OCRed once."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import ocr_samples as samples
import pytest

from ocr.pipeline import read_page
from ocr.results import PageText

#: The corpus every run reads unless OCR_TEST_SEED names another: the same documents
#: locally and in CI, so a first run never fails on a draw CI did not make. `make fuzz-ocr`
#: draws a new seed (that is how accuracy gaps are found); its seed replays the run.
DEFAULT_SEED = 20261122
SEED = int(os.environ.get("OCR_TEST_SEED") or DEFAULT_SEED)

_MAKERS: dict[str, Callable[[random.Random], samples.SampleDocument]] = {
    "payslip": samples.payslip,
    "invoice": samples.invoice,
    "dni": partial(samples.id_card, foreigner=False),
    "nie": partial(samples.id_card, foreigner=True),
    "bank_certificate": samples.bank_certificate,
}
_CORPUS = (("payslip", 5), ("invoice", 5), ("dni", 2), ("nie", 2), ("bank_certificate", 2))


def pytest_report_header() -> str:
    return f"ocr test seed: OCR_TEST_SEED={SEED}"


@dataclass(frozen=True)
class ScannedPage:
    """A generated document, its noisy 300 dpi scan on disk and what OCR read from it."""

    document: samples.SampleDocument
    path: Path
    page: PageText


def scan_and_read(job: tuple[str, int, str]) -> tuple[samples.SampleDocument, str, dict[str, Any]]:
    """Generate one document from its own seed, scan it to a PNG and OCR it."""
    kind, seed, folder = job
    rng = random.Random(seed)
    document = _MAKERS[kind](rng)
    path = Path(folder) / f"{kind}-{seed}.png"
    samples.degrade(document.image, rng).save(path, dpi=(300, 300), compress_level=1)
    return document, str(path), read_page(path, 1).to_dict()


@pytest.fixture(scope="session")
def seed() -> int:
    return SEED


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[ScannedPage]:
    """Payslips, invoices, ID cards and bank certificates, made and read two at a time."""
    rng = random.Random(SEED)
    folder = str(tmp_path_factory.mktemp("corpus"))
    jobs = [(kind, rng.randrange(2**32), folder) for kind, count in _CORPUS for _ in range(count)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(scan_and_read, jobs))
    return [
        ScannedPage(document, Path(path), PageText.from_dict(page))
        for document, path, page in results
    ]
