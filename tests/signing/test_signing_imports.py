"""The signing library stays a library: no web, database or task-queue imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("app", "flask", "sqlalchemy", "celery", "flask_login", "storage", "ocr", "workflows")


def test_importing_signing_pulls_in_no_app_modules() -> None:
    script = (
        "import sys, signing, signing.evidence, signing.geometry, signing.validate, signing.sources\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True
    )
    assert result.stdout.strip() == ""
