"""The workflows package stays a standard-library-only library."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import workflows

MODULES = sorted(Path(workflows.__file__).parent.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_imports_only_the_standard_library(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    outside = {name for name in imported if name not in sys.stdlib_module_names} - {"workflows"}
    assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize(
    "name", ["workflows", "workflows.review", "workflows.requests", "workflows.schedule"]
)
def test_every_exported_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    missing = [exported for exported in module.__all__ if not hasattr(module, exported)]
    assert not missing
