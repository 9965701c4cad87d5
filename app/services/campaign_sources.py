"""Who a campaign is for, read from what staff have at hand: a CSV of tax ids or a ZIP of PDFs.

A CSV exported from Excel comes in Windows-1252 or UTF-8 (with or without a BOM), separated by
``;`` or ``,``, with or without a header; it is read row by row (never whole into memory) and
refused past ``MAX_CSV_ROWS``. Tax ids are compared in their compact form (python-stdnum:
"es-b 12.345.674" is "B12345674"), so that spaces, dots, dashes and case never hide a client.

A ZIP of PDFs names each file by the client's tax id ("B12345674.pdf", "B12345674 cuentas
2025.pdf"). Entries are read one at a time with a cap on each and on the total, so that a
ZIP bomb stops early; a name that climbs out of the archive (``../``) or is absolute refuses
the ZIP; files that are not PDFs, match no client or are a second file for one client are
left out and listed.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from flask_babel import gettext as _
from stdnum.es import nif as stdnum_nif

from app.services.errors import ValidationFailed

MAX_CSV_ROWS = 20_000
MAX_CSV_BYTES = 4 * 1024 * 1024
MAX_ZIP_ENTRIES = 5_000
MAX_ZIP_TOTAL = 1024 * 1024 * 1024  # uncompressed bytes, all PDFs together
MAX_RATIO = 200  # uncompressed / compressed: PDFs compress little; more is a ZIP bomb
MAX_LISTED = 20  # problems named one by one in a message; the rest are counted
MAX_NOTICES = 100  # repeated rows kept with the campaign, one by one

_HEADERS = {"nif", "cif", "nie", "dni", "nifcif", "taxid", "identificadorfiscal", "documento"}
_TOKEN = re.compile(r"[A-Za-z0-9]+")


def compact(value: str) -> str:
    """A tax id as stored for comparison: no spaces, dots or dashes, upper case, no ES."""
    return str(stdnum_nif.compact(value.replace(".", "")))


def is_valid(value: str) -> bool:
    return bool(stdnum_nif.is_valid(value))


@dataclass
class Selection:
    """Clients found (in the order first met), and what was left out, by line or file."""

    client_ids: list[str] = field(default_factory=list)
    rows: int = 0
    unknown: list[tuple[int, str, str]] = field(default_factory=list)  # line, value, reason
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # line, value
    seen: set[str] = field(default_factory=set)

    def notices(self) -> list[dict[str, Any]]:
        """The repeated rows, the first ``MAX_NOTICES`` by line, then how many more."""
        found: list[dict[str, Any]] = [
            {"kind": "duplicate", "line": line, "value": value, "message": _("Repetido")}
            for line, value in self.duplicates[:MAX_NOTICES]
        ]
        if len(self.duplicates) > MAX_NOTICES:
            more = len(self.duplicates) - MAX_NOTICES
            found.append({"kind": "duplicate", "value": "…", "message": _("(y %(n)s más)", n=more)})
        return found


def listed(parts: list[str]) -> str:
    shown = "; ".join(parts[:MAX_LISTED])
    if len(parts) > MAX_LISTED:
        shown += " " + _("(y %(n)s más)", n=len(parts) - MAX_LISTED)
    return shown


def unknown_message(selection: Selection) -> str:
    return _(
        "Estos NIF no son de ningún cliente: %(list)s. Corrija el archivo; no se ha creado nada.",
        list=listed(
            [f"{_('línea')} {line}: {value} ({why})" for line, value, why in selection.unknown]
        ),
    )


def _known_reason(value: str) -> str:
    return _("no es de ningún cliente") if is_valid(value) else _("no es un NIF válido")


def select_by_tax_ids(values: list[Any], known: dict[str, list[str]]) -> Selection:
    """Tax ids given as a list (the API's ``tax_ids``): position 1 is the first."""
    selection = Selection()
    if len(values) > MAX_CSV_ROWS:
        raise ValidationFailed({"tax_ids": _("Como mucho %(n)s NIF por campaña.", n=MAX_CSV_ROWS)})
    for number, value in enumerate(values, start=1):
        _take(selection, number, str(value) if value is not None else "", known)
    return selection


def _take(selection: Selection, line: int, raw: str, known: dict[str, list[str]]) -> None:
    value = raw.strip()
    if not value:
        return
    selection.rows += 1
    key = compact(value)
    found = known.get(key)
    if not found:
        selection.unknown.append((line, value[:40], _known_reason(key)))
        return
    if len(found) > 1:
        selection.unknown.append((line, value[:40], _("lo tienen %(n)s clientes", n=len(found))))
        return
    if found[0] in selection.seen:
        selection.duplicates.append((line, value[:40]))
        return
    selection.seen.add(found[0])
    selection.client_ids.append(found[0])


def _text_lines(stream: BinaryIO) -> Iterator[str]:
    """The file's lines as text: UTF-8 (BOM or not) if all of it decodes as such, else
    Windows-1252 (what Excel writes on Windows).

    The encoding is settled by a first pass that only checks the bytes, so that a stray
    Windows-1252 byte far down the file never has the first rows read twice; both passes go
    chunk by chunk (the upload is a seekable file, spooled to disk once large).
    """
    start = stream.tell()
    checker = codecs.getincrementaldecoder("utf-8")(errors="strict")
    encoding = "utf-8-sig"
    read = 0
    try:
        while chunk := stream.read(64 * 1024):
            read += len(chunk)
            if read > MAX_CSV_BYTES:
                break  # _decoded refuses it with a message
            checker.decode(chunk)
        checker.decode(b"", final=True)
    except UnicodeDecodeError:
        encoding = "cp1252"
    stream.seek(start)
    yield from _decoded(stream, encoding)


def _decoded(stream: BinaryIO, encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(
        errors="strict" if encoding != "cp1252" else "replace"
    )
    pending = ""
    read = 0
    while True:
        chunk = stream.read(64 * 1024)
        read += len(chunk)
        if read > MAX_CSV_BYTES:
            raise ValidationFailed(
                {
                    "clients_csv": _(
                        "El CSV es demasiado grande (máximo %(mb)s MB).",
                        mb=MAX_CSV_BYTES // 1024 // 1024,
                    )
                }
            )
        text = pending + decoder.decode(chunk, final=not chunk)
        lines = text.splitlines(keepends=True)
        pending = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        yield from lines
        if not chunk:
            if pending:
                yield pending
            return


def _normal(header: str) -> str:
    decomposed = unicodedata.normalize("NFKD", header.lower())
    return "".join(c for c in decomposed if c.isalnum())


def select_by_csv(stream: BinaryIO, known: dict[str, list[str]]) -> Selection:
    """The clients named in a CSV of tax ids (the column headed NIF/CIF/NIE, or the first)."""
    lines = _text_lines(stream)
    try:
        first = next(lines)
    except StopIteration:
        raise ValidationFailed({"clients_csv": _("El CSV está vacío.")}) from None
    except UnicodeDecodeError:  # pragma: no cover - cp1252 replaces, never raises
        raise ValidationFailed({"clients_csv": _("No se puede leer el CSV.")}) from None
    if "\x00" in first:
        raise ValidationFailed(
            {"clients_csv": _("No parece un CSV de texto (¿es un Excel .xlsx? Guárdelo como CSV).")}
        )
    separator = max((";", ",", "\t"), key=first.count) if any(s in first for s in ";,\t") else ";"
    header = next(csv.reader([first], delimiter=separator), [])
    column: int | None = None
    for index, title in enumerate(header):
        if _normal(title) in _HEADERS:
            column = index
            break
    selection = Selection()
    reader = csv.reader(lines, delimiter=separator)
    if column is None:
        # no header: the column is the first whose cell is a tax id (or the first)
        column = next((i for i, cell in enumerate(header) if is_valid(compact(cell))), 0)
        reader = csv.reader(_chain(first, lines), delimiter=separator)
        line = 0
    else:
        line = 1
    try:
        for row in reader:
            line += 1
            if line > MAX_CSV_ROWS + 1:
                raise ValidationFailed(
                    {
                        "clients_csv": _(
                            "El CSV tiene más de %(n)s filas; divídalo en varias campañas.",
                            n=MAX_CSV_ROWS,
                        )
                    }
                )
            if column < len(row):
                _take(selection, line, row[column], known)
    except csv.Error as exc:
        raise ValidationFailed(
            {"clients_csv": _("El CSV no se puede leer en la línea %(line)s.", line=line)}
        ) from exc
    except UnicodeDecodeError:  # pragma: no cover
        raise ValidationFailed({"clients_csv": _("No se puede leer el CSV.")}) from None
    if not selection.rows:
        raise ValidationFailed({"clients_csv": _("El CSV no tiene ningún NIF.")})
    return selection


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


# ---------------------------------------------------------------- ZIP of PDFs


@dataclass
class ZipFile:
    """One client's PDF found in the ZIP."""

    client_id: str
    name: str
    data: bytes


@dataclass
class ZipContents:
    files: list[ZipFile] = field(default_factory=list)
    left_out: list[dict[str, Any]] = field(default_factory=list)  # file, reason


def _unsafe(name: str) -> bool:
    cleaned = name.replace("\\", "/")
    return (
        cleaned.startswith("/")
        or re.match(r"^[A-Za-z]:", cleaned) is not None
        or ".." in cleaned.split("/")
    )


def _tax_id_in(name: str, known: dict[str, list[str]]) -> str | None:
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    tokens = _TOKEN.findall(stem)
    # "B-12345674" and "12.345.678-Z" are one tax id in two or three tokens
    candidates = tokens + ["".join(tokens[i : i + n]) for n in (2, 3) for i in range(len(tokens))]
    for token in candidates:
        if compact(token) in known:
            return compact(token)
    return next((compact(t) for t in candidates if is_valid(compact(t))), None)


def read_zip(stream: BinaryIO, known: dict[str, list[str]], *, max_pdf: int) -> ZipContents:
    """Each client's PDF from a ZIP of PDFs named by tax id; the rest listed with a reason."""
    try:
        archive = zipfile.ZipFile(stream)
        entries = [e for e in archive.infolist() if not e.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationFailed({"documents_zip": _("El archivo no es un ZIP válido.")}) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ValidationFailed(
            {"documents_zip": _("El ZIP tiene más de %(n)s archivos.", n=MAX_ZIP_ENTRIES)}
        )
    unsafe = [e.filename for e in entries if _unsafe(e.filename)]
    if unsafe:
        raise ValidationFailed(
            {
                "documents_zip": _(
                    "El ZIP tiene nombres de archivo no permitidos (rutas absolutas o con ..): %(names)s. No se ha creado nada.",
                    names=listed(unsafe),
                )
            }
        )
    declared = sum(e.file_size for e in entries)
    if declared > MAX_ZIP_TOTAL or any(
        e.file_size > 1024 * 1024 and e.file_size > MAX_RATIO * max(e.compress_size, 1)
        for e in entries
    ):
        raise ValidationFailed({"documents_zip": _bomb(max_pdf)})
    contents = ZipContents()
    by_client: dict[str, list[str]] = {}
    total = 0
    for entry in entries:
        base = entry.filename.replace("\\", "/").rsplit("/", 1)[-1]
        if base.startswith(".") or entry.filename.startswith("__MACOSX/"):
            continue  # what macOS and editors leave behind
        if entry.flag_bits & 0x1:
            contents.left_out.append(_left(entry.filename, _("está cifrado")))
            continue
        key = _tax_id_in(base, known)
        found = known.get(key or "")
        if key is None:
            contents.left_out.append(_left(entry.filename, _("el nombre no lleva un NIF")))
            continue
        if not found:
            contents.left_out.append(
                _left(entry.filename, _("ningún cliente tiene el NIF %(nif)s", nif=key))
            )
            continue
        if len(found) > 1:
            contents.left_out.append(
                _left(entry.filename, _("%(n)s clientes tienen ese NIF", n=len(found)))
            )
            continue
        try:
            with archive.open(entry) as member:
                data = member.read(max_pdf + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            contents.left_out.append(_left(entry.filename, _("no se puede leer del ZIP")))
            continue
        total += len(data)
        if len(data) > max_pdf or total > MAX_ZIP_TOTAL:
            raise ValidationFailed({"documents_zip": _bomb(max_pdf)})
        if b"%PDF-" not in data[:1024]:
            contents.left_out.append(_left(entry.filename, _("no es un PDF")))
            continue
        by_client.setdefault(found[0], []).append(entry.filename)
        contents.files.append(ZipFile(found[0], base, data))
    twice = {client for client, names in by_client.items() if len(names) > 1}
    for client in twice:
        for name in by_client[client]:
            contents.left_out.append(
                _left(name, _("hay %(n)s archivos para el mismo cliente", n=len(by_client[client])))
            )
    contents.files = [f for f in contents.files if f.client_id not in twice]
    return contents


def _left(name: str, reason: str) -> dict[str, Any]:
    return {"kind": "file", "value": name[:300], "message": reason}


def _bomb(max_pdf: int) -> str:
    return _(
        "El ZIP se descomprime en demasiados datos (¿una bomba ZIP?); cada PDF puede ocupar %(mb)s MB como mucho. No se ha creado nada.",
        mb=max_pdf // 1024 // 1024,
    )
