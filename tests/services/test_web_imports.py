"""A web process that serves pages and uploads stays small: the signing and OCR engines
(pyHanko, tesseract's numpy, pdfium) load only when a request or task first needs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["pyhanko", "pyhanko_certvalidator", "aiohttp", "pytesseract", "numpy", "pypdfium2"]

PROBE = """
import json, sys
from app import create_app
app = create_app({"SECRET_KEY": "x", "DATA_DIR": sys.argv[1], "TESTING": True})
client = app.test_client()
pages = [client.get(path).status_code for path in ("/login", "/api/v1/openapi.json")]
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2])))
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")][0]
print(json.dumps({"pages": pages, "loaded": loaded, "rss_kib": rss}))
"""


def test_start_up_and_pages_load_no_signing_or_ocr_engine(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), json.dumps(HEAVY)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["pages"] == [200, 200]
    assert report["loaded"] == []
    assert report["rss_kib"] < 120 * 1024  # ~85 MiB here; ~135 MiB with the engines loaded


@pytest.mark.parametrize("package", ["signing", "ocr"])
def test_every_public_name_of_the_libraries_resolves(package: str) -> None:
    module = __import__(package)

    assert sorted(module._SOURCES) == sorted(module.__all__)  # noqa: SLF001
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018
