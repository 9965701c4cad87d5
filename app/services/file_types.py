"""Which kinds of file the portal accepts, decided from the content (magic bytes), not the name."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import BinaryIO

import filetype
from flask_babel import gettext as _

from app.services.errors import UnsupportedType, ValidationFailed
from app.services.settings import get_setting

SETTING = "upload_allowed_types"
HEAD_SIZE = 8192  # what filetype looks at

# Formats that share a container: the name picks among them when the content fits.
_ZIP_FAMILY = {"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"}
_OLE_FAMILY = {"doc", "xls", "ppt", "msg"}
# Text has no magic bytes: these names say what kind of text it is; any other is "txt".
_TEXT_KINDS = {"txt", "csv", "tsv", "dxf", "xml", "json", "md", "html", "htm", "svg", "js"}
_BINARY_DXF = b"AutoCAD Binary DXF\r\n\x1a\x00"

KNOWN_KINDS = frozenset(
    {kind.extension for kind in filetype.types} | _ZIP_FAMILY | _OLE_FAMILY | _TEXT_KINDS
)


def _extension(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else ""


def _looks_like_text(head: bytes) -> bool:
    """No NUL bytes and hardly any control characters: UTF-8 or a single-byte encoding."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with its byte-order mark
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f\x1a")
    return controls <= len(head) // 100


def detect_kind(head: bytes, filename: str) -> str | None:
    """The kind of a file from its first bytes ("pdf", "jpg", "docx", "txt"…); None if unknown."""
    named = _extension(filename)
    if head.startswith(_BINARY_DXF):
        return "dxf"
    guessed = filetype.guess(head) if head else None
    if guessed is not None:
        kind = str(guessed.extension)
        if kind in _ZIP_FAMILY and named in _ZIP_FAMILY:
            return named
        if kind in _OLE_FAMILY and named in _OLE_FAMILY:
            return named
        return kind
    if _looks_like_text(head):
        return named if named in _TEXT_KINDS else "txt"
    return None


def allowed_kinds() -> list[str]:
    """The kinds an administrator allows (admin settings)."""
    return list(get_setting(SETTING))


def parse_kinds(text: str) -> list[str]:
    """A comma- or space-separated list of kinds, checked against the known ones."""
    kinds: list[str] = []
    for word in text.replace(",", " ").split():
        kind = word.strip().lstrip(".").lower()
        if kind and kind not in kinds:
            kinds.append(kind)
    unknown = [kind for kind in kinds if kind not in KNOWN_KINDS]
    if unknown:
        raise ValidationFailed(
            {"kinds": _("Tipos desconocidos: %(kinds)s", kinds=", ".join(unknown))},
        )
    if not kinds:
        raise ValidationFailed({"kinds": _("Indique al menos un tipo de archivo.")})
    return kinds


def check_head(head: bytes, filename: str, allowed: Iterable[str] | None = None) -> str:
    """The file's kind when it is allowed; UnsupportedType (415) otherwise."""
    permitted = set(allowed if allowed is not None else allowed_kinds())
    kind = detect_kind(head, filename)
    if kind is None or kind not in permitted:
        shown = kind or "desconocido"
        raise UnsupportedType(
            _(
                "Este tipo de archivo no se admite (%(kind)s). No se ha guardado nada. "
                "Tipos admitidos: %(kinds)s.",
                kind=kind or _("desconocido"),
                kinds=", ".join(sorted(permitted)),
            ),
            kind=shown,
        )
    return kind


class PrefixedStream(io.RawIOBase):
    """Bytes already read from a stream, then the rest of that stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data = bytes(self._head) + self._rest.read()
                self._head = memoryview(b"")
                return data
            data = bytes(self._head[:size])
            self._head = self._head[len(data) :]
            return data
        return self._rest.read(-1 if size is None else size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_head(stream: BinaryIO, size: int = HEAD_SIZE) -> tuple[bytes, BinaryIO]:
    """Up to `size` first bytes of `stream`, and a stream that still yields them."""
    pieces: list[bytes] = []
    got = 0
    while got < size:
        piece = stream.read(size - got)
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    head = b"".join(pieces)
    return head, PrefixedStream(head, stream)  # type: ignore[return-value]


def checked_stream(stream: BinaryIO, filename: str) -> BinaryIO:
    """The stream, once its first bytes show an allowed kind (before anything is stored)."""
    head, whole = read_head(stream)
    check_head(head, filename)
    return whole
