"""Real PDFs from many producers: the ones shipped in the sdists of pypdf and pikepdf.

Each file goes through what the portal does with a PDF to sign (the check when
signatures are requested, then sign and validate before storing) and must come
out either signed and valid, or refused with a clear reason: never an unexpected
exception. The sdists are downloaded with pip at test time, never committed.
Only the two sdists are built from source (``--no-binary pypdf,pikepdf``); their
build tools come as wheels, which keeps the download to seconds.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from portal_testing import IN_CI

PACKAGES = ("pypdf", "pikepdf")
MAX_FILE = 5 * 1024 * 1024
TIME_BUDGET = 50.0  # seconds for signing and validating the whole corpus

pytestmark = pytest.mark.usefixtures("signing_ready")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    download = tmp_path_factory.mktemp("sdists")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ",".join(PACKAGES),
        "--disable-pip-version-check",
        "--dest",
        str(download),
        *PACKAGES,
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=180)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        output = getattr(exc, "stderr", "") or ""
        message = f"pip could not download the {' and '.join(PACKAGES)} sdists: {output[-500:]}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    pdfs: list[Path] = []
    target = tmp_path_factory.mktemp("corpus")
    for archive_path in sorted(download.glob("*.tar.gz")):
        with tarfile.open(archive_path) as archive:
            for member in archive.getmembers():
                if not (member.isfile() and member.name.lower().endswith(".pdf")):
                    continue
                if member.size > MAX_FILE:
                    continue
                handle = archive.extractfile(member)
                assert handle is not None
                # Flattened, numbered names: nothing from the archive decides where we write.
                path = target / f"{len(pdfs):03d}-{Path(member.name).name}"
                path.write_bytes(handle.read())
                pdfs.append(path)
    assert len(pdfs) > 50, f"only {len(pdfs)} PDFs in the sdists"
    return pdfs


def test_every_corpus_pdf_is_signed_and_valid_or_refused_with_a_reason(
    app, world, corpus: list[Path]
) -> None:
    from app.services import pki, signatures
    from app.services.errors import ValidationFailed
    from signing import SignOptions, StampSpec

    certificate = pki.current_certificate(world.client_a)
    source = pki.internal_source(certificate)
    outcomes: dict[str, list[str]] = {"signed": [], "refused": [], "unexpected": []}
    started = time.monotonic()
    checked = 0
    for path in corpus:
        if time.monotonic() - started > TIME_BUDGET:
            break
        checked += 1
        data = path.read_bytes()
        try:
            facts = signatures.inspect_pdf(data)
            options = SignOptions(
                level="B-T",
                field_name="Firma1",
                reason="Conforme",
                stamp=StampSpec(page=-1, box=(36, 36, 206, 98)),
                timestamper=pki.timestamper(),
                validation=pki.trust_material(),
            )
            signed, mine = signatures.sign_and_validate(data, source, options)
        except ValidationFailed as exc:
            reason = "; ".join(exc.errors.values())
            assert reason.strip(), path.name
            outcomes["refused"].append(f"{path.name}: {reason}")
        except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
            outcomes["unexpected"].append(f"{path.name}: {type(exc).__name__}: {exc}")
        else:
            assert facts.pages >= 1
            assert mine.bottom_line and mine.level == "B-T", path.name
            report: Any = pki.validate(signed)
            assert report.valid, f"{path.name}: {report.reason}"
            outcomes["signed"].append(path.name)

    assert not outcomes["unexpected"], "\n".join(outcomes["unexpected"])
    assert checked >= len(corpus) * 0.8, f"only {checked} of {len(corpus)} in the time budget"
    # Most real-world files sign; refusals are the encrypted, broken and odd ones.
    assert len(outcomes["signed"]) >= checked // 2, "\n".join(outcomes["refused"])
    encrypted = [line for line in outcomes["refused"] if "contraseña" in line]
    assert encrypted, "the corpus has password-protected PDFs: they are refused as such"
