"""The English catalog covers every Spanish UI string, with the same placeholders.

The sources are re-extracted here exactly as ``babel.cfg`` says, so a string added
to a view, form or template without an English translation fails this test. To fix
it, refresh the catalog with the commands in README.md ("Translations").
"""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
TRANSLATIONS = ROOT / "app" / "translations"
ENGLISH_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
SKIPPED_DIRS = {"var", "node_modules", "build", "dist", "__pycache__"}

# printf-style conversions as Python's % operator reads them: %(name)s, %s, %d, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def _parse_mapping(path: Path) -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    try:
        from babel.messages.frontend import parse_mapping_cfg
    except ImportError:  # Babel < 2.14
        from babel.messages.frontend import parse_mapping as parse_mapping_cfg
    with open(path, encoding="utf-8") as handle:
        return parse_mapping_cfg(handle)


def _walk_filter(dirpath: str | Path) -> bool:
    name = Path(dirpath).name
    return not name.startswith((".", "_")) and name not in SKIPPED_DIRS


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid, message.context


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """A fresh template extracted from the current sources, written to and read from a temp dir."""
    method_map, options_map = _parse_mapping(BABEL_CFG)
    template = Catalog(project="Portal", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=_walk_filter,
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with open(pot, "wb") as handle:
        write_po(handle, template)
    with open(pot, "rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def english() -> Catalog:
    with open(ENGLISH_PO, "rb") as handle:
        return read_po(handle)


def _where(message: Message) -> str:
    return ", ".join(f"{path}:{line}" for path, line in message.locations) or "?"


def test_sources_have_strings_to_translate(extracted: Catalog) -> None:
    """Guards the extraction itself: views, forms and templates all yield msgids."""
    paths = {
        Path(path).parts[0] for message in extracted if message.id for path, _ in message.locations
    }
    assert {"app", "templates"} <= paths
    assert len([message for message in extracted if message.id]) > 50


def test_every_string_has_an_english_translation(extracted: Catalog, english: Catalog) -> None:
    english_by_key = {_key(message): message for message in english if message.id}
    problems = []
    for message in extracted:
        if not message.id:
            continue
        found = english_by_key.get(_key(message))
        if found is None:
            problems.append(f"not in the catalog: {message.id!r} ({_where(message)})")
        elif found.fuzzy:
            problems.append(f"fuzzy: {message.id!r} ({_where(message)})")
        elif not all(found.string if isinstance(found.string, tuple) else (found.string,)):
            problems.append(f"untranslated: {message.id!r} ({_where(message)})")
    assert not problems, (
        f"{len(problems)} UI strings lack English (refresh the catalog as README.md says):\n"
        + "\n".join(problems)
    )


def test_translations_keep_the_placeholders(english: Catalog) -> None:
    problems = []
    for message in english:
        if not message.id or not message.string:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        expected = _placeholders(ids[0])
        for text in strings:
            if text and _placeholders(text) != expected:
                problems.append(f"{ids[0]!r} -> {text!r}")
    assert not problems, "placeholders differ between Spanish and English:\n" + "\n".join(problems)


def test_catalog_compiles_and_formats_in_english(english: Catalog) -> None:
    """What an English-speaking user sees: the compiled catalog answers every msgid in English."""
    assert not list(english.check()), "Babel's catalog checks failed"
    compiled = io.BytesIO()
    write_mo(compiled, english)
    compiled.seek(0)
    translations = Translations(fp=compiled)
    for message in english:
        if not message.id or not isinstance(message.id, str) or message.fuzzy:
            continue
        if message.context:
            shown = translations.pgettext(message.context, message.id)
        else:
            shown = translations.gettext(message.id)
        assert shown == message.string
        names = re.findall(r"%\(([^)]*)\)", message.id)
        if names or "%%" in message.id:
            assert "%(" not in shown % dict.fromkeys(names, "X")
