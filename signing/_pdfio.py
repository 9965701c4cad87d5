"""Reading PDF input into pyHanko with clear errors (internal)."""

from __future__ import annotations

import os
from io import BytesIO
from typing import Any, BinaryIO, TypeAlias

from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.generic import DictionaryObject, IndirectObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import EmptyPdf, EncryptedPdf, InvalidPdf, WrongPassword

__all__ = ["PdfInput", "open_reader", "open_writer", "page_count", "read_input"]

PdfInput: TypeAlias = bytes | bytearray | memoryview | BinaryIO | str | os.PathLike[str]
"""A PDF as bytes, a binary file object or a path."""

_HEADER_WINDOW = 1024


def read_input(pdf: PdfInput) -> bytes:
    """Return the PDF bytes whatever the input kind, and refuse what is plainly not a PDF."""
    if isinstance(pdf, bytes | bytearray | memoryview):
        data = bytes(pdf)
    elif isinstance(pdf, str | os.PathLike):
        with open(pdf, "rb") as handle:
            data = handle.read()
    else:
        data = pdf.read()
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise InvalidPdf("Not a PDF file (no %PDF header).")
    return data


def _decrypt(reader: PdfFileReader, password: bytes) -> AuthStatus:
    try:
        return reader.decrypt(password).status
    except Exception as exc:  # noqa: BLE001 - e.g. an encrypted file without the /ID it needs
        raise InvalidPdf(f"The PDF encryption cannot be read: {exc!r}") from exc


def _check_reader(reader: PdfFileReader, password: bytes | None) -> None:
    if reader.encrypted:
        if password is None:
            # Files with an empty user password open in any viewer; treat them as readable.
            if _decrypt(reader, b"") == AuthStatus.FAILED:
                raise EncryptedPdf("The PDF is encrypted; its password is needed.")
        elif _decrypt(reader, password) == AuthStatus.FAILED:
            raise WrongPassword("The PDF password is wrong.")
    try:
        pages = reader.root["/Pages"]
        count = pages.get("/Count", 0)
        if not isinstance(count, int) or count <= 0:
            raise EmptyPdf("The PDF has no pages.")
        reader.find_page_for_modification(0)
    except EmptyPdf:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken page tree fails in many ways
        raise InvalidPdf(f"The PDF page tree is unreadable: {exc}") from exc


def open_reader(
    data: bytes, *, password: bytes | None = None, strict: bool = False
) -> PdfFileReader:
    """Open a pyHanko reader on the bytes, mapping parser failures to :class:`InvalidPdf`."""
    try:
        reader = PdfFileReader(BytesIO(data), strict=strict)
        reader.root  # noqa: B018 - resolves the catalog so broken trailers fail here
    except Exception as exc:  # noqa: BLE001 - the parser can fail in many ways on garbage
        raise InvalidPdf(f"The PDF cannot be read: {exc}") from exc
    _check_reader(reader, password)
    return reader


_MAX_PAGE_TREE_DEPTH = 64


class _PdfUpdate(IncrementalPdfFileWriter):
    """pyHanko's incremental writer, finding pages counted from the end by walking from the end.

    pyHanko walks the page tree from the first page, reading every page object on the
    way; a stamp on the last page of a 300-page document then reads all 300. Walking
    from the end reads only the pages after the one wanted. Anything unusual (a
    malformed tree) falls back to pyHanko's own walk and its errors.
    """

    def find_page_for_modification(self, page_ix: int) -> tuple[Any, Any]:
        found = None
        if page_ix < 0:
            try:
                found = _page_from_end(self.root["/Pages"], -page_ix, self.root.raw_get("/Pages"))
            except Exception:  # noqa: BLE001 - pyHanko's own walk reports the problem
                found = None
        # pyHanko's method is untyped; reached through this subclass, the checker cannot
        # tell it comes from pyHanko (which the configuration lets us call untyped).
        return found or super().find_page_for_modification(page_ix)  # type: ignore[no-untyped-call]


def _page_from_end(node: Any, position: int, node_ref: Any) -> tuple[Any, Any]:
    """The ``position``-th page from the end (1 is the last) and its inherited resources."""
    count = node["/Count"]
    if not isinstance(count, int) or not 1 <= position <= count:
        raise ValueError("Page index out of range")
    resources = node.raw_get("/Resources") if "/Resources" in node else DictionaryObject()
    seen = {node_ref.reference}
    for _depth in range(_MAX_PAGE_TREE_DEPTH):
        for kid_ref in reversed(list(node["/Kids"])):  # list(): the references, not the pages
            if not isinstance(kid_ref, IndirectObject) or kid_ref.reference in seen:
                raise ValueError("Malformed page tree")
            kid = kid_ref.get_object()
            if kid["/Type"] == "/Pages":
                kid_count = kid["/Count"]
                if position <= kid_count:
                    seen.add(kid_ref.reference)
                    node = kid
                    if "/Resources" in node:
                        resources = node.raw_get("/Resources")
                    break
                position -= kid_count
            elif kid["/Type"] == "/Page":
                if position == 1:
                    if "/Resources" in kid:
                        resources = kid.raw_get("/Resources")
                    return kid_ref, resources
                position -= 1
            else:
                raise ValueError("Unknown page tree node")
        else:
            raise ValueError("Page not found")
    raise ValueError("Page tree too deep")


def open_writer(data: bytes, *, password: bytes | None = None) -> IncrementalPdfFileWriter:
    """Open an incremental writer on the bytes (authenticated if encrypted)."""
    reader = open_reader(data, password=password)
    try:
        writer = _PdfUpdate(BytesIO(data), prev=reader)
    except Exception as exc:  # noqa: BLE001 - same parser, same failure modes
        raise InvalidPdf(f"The PDF cannot be updated: {exc}") from exc
    if reader.encrypted:
        # The writer must reuse the file's encryption; the reader is already authenticated.
        writer.encrypt(password if password is not None else b"")  # type: ignore[no-untyped-call]  # pyHanko's, untyped
    return writer


def page_count(reader: PdfFileReader) -> int:
    """Number of pages according to the page tree root."""
    count = reader.root["/Pages"].get("/Count", 0)
    return count if isinstance(count, int) else 0
