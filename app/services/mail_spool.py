"""An e-mail read from its spool file with its attached files decoded to disk, never into memory.

The standard library's parser holds every part of a message in memory, several times over
(lines, the joined text, the decoded bytes): a 25 MB attachment costs a few hundred MB. Here
one pass over the raw message copies everything but the attached files (base64 parts with a
file name or an attachment disposition) into a small *skeleton*, and decodes each such file
in chunks into a file of its own; the skeleton's part keeps its headers and names its file in
a header whose value is a random token of this reading (a sender cannot point at a file). The
skeleton is then parsed as usual.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from pathlib import Path
from typing import BinaryIO

MARK = "X-Portal-Spooled"
_CHUNK = 256 * 1024  # base64 characters decoded at a time (a multiple of 4)


@dataclass
class Spooled:
    """The skeleton to parse, the files decoded beside it, and whether one would not decode."""

    skeleton: bytes
    files: dict[str, Path] = field(default_factory=dict)
    broken: bool = False


class _Decoder:
    """Base64 text in, bytes out to a file, in chunks; strict about the alphabet and padding."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.out = path.open("wb")
        self.pending = bytearray()
        self.broken = False

    def feed(self, line: bytes) -> None:
        if self.broken:
            return
        self.pending += b"".join(line.split())
        if len(self.pending) >= _CHUNK:
            cut = len(self.pending) - len(self.pending) % 4
            self._decode(bytes(self.pending[:cut]))
            del self.pending[:cut]

    def _decode(self, text: bytes) -> None:
        try:
            self.out.write(binascii.a2b_base64(text, strict_mode=True))
        except binascii.Error:
            self.broken = True

    def close(self) -> None:
        if self.pending and not self.broken:
            self._decode(bytes(self.pending))
        self.pending = bytearray()
        self.out.close()


def _headers(lines: list[bytes]) -> Message:
    return message_from_bytes(b"".join(lines) + b"\r\n", policy=compat32)


def _is_file(headers: Message) -> bool:
    if headers.get_content_maintype() in ("multipart", "message"):
        return False
    if str(headers.get("Content-Transfer-Encoding", "")).strip().lower() != "base64":
        return False
    disposition = str(headers.get("Content-Disposition", "")).strip().lower()
    return disposition.startswith("attachment") or bool(headers.get_filename())


def _lines(source: BinaryIO) -> Iterator[bytes]:
    while True:
        line = source.readline(1024 * 1024)
        if not line:
            return
        yield line


def split(source: BinaryIO, folder: Path) -> Spooled:
    """Read ``source`` (a raw message) once; its files go to ``folder``, the rest to memory."""
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    spooled = Spooled(b"")
    skeleton: list[bytes] = []
    boundaries: list[bytes] = []
    header_lines: list[bytes] = []
    in_headers = True
    decoder: _Decoder | None = None

    def end_file() -> None:
        nonlocal decoder
        if decoder is not None:
            decoder.close()
            spooled.broken = spooled.broken or decoder.broken
            decoder = None

    for line in _lines(source):
        stripped = line.rstrip()
        if stripped.startswith(b"--") and boundaries:
            name = stripped[2:]
            opening = name in boundaries
            closing = not opening and name.endswith(b"--") and name[:-2] in boundaries
            if opening or closing:
                end_file()
                skeleton.extend(header_lines)  # a part cut off inside its headers
                header_lines = []
                if opening:
                    del boundaries[boundaries.index(name) + 1 :]
                else:
                    del boundaries[boundaries.index(name[:-2]) :]
                in_headers = opening
                skeleton.append(line)
                continue
        if in_headers:
            if stripped or line.startswith((b" ", b"\t")):
                header_lines.append(line)
                continue
            # the blank line that ends a header block
            headers = _headers(header_lines)
            in_headers = False
            if headers.get_content_maintype() == "multipart":
                boundary = headers.get_boundary()
                if isinstance(boundary, str) and boundary:
                    boundaries.append(boundary.encode("ascii", "replace"))
            elif headers.get_content_type() == "message/rfc822":
                skeleton.extend(header_lines)
                skeleton.append(line)
                header_lines = []
                in_headers = True  # the forwarded message's own headers come next
                continue
            elif _is_file(headers):
                key = f"{token}-{len(spooled.files)}"
                path = folder / f"{len(spooled.files)}.part"
                spooled.files[key] = path
                decoder = _Decoder(path)
                header_lines.append(f"{MARK}: {key}\r\n".encode())
            skeleton.extend(header_lines)
            skeleton.append(line)
            header_lines = []
            continue
        if decoder is not None:
            decoder.feed(line)
        else:
            skeleton.append(line)
    end_file()
    skeleton.extend(header_lines)
    spooled.skeleton = b"".join(skeleton)
    return spooled


def spooled_file(part: Message, spooled: Spooled) -> Path | None:
    """The decoded file of a skeleton's part, if it has one."""
    for value in part.get_all(MARK, []) or []:
        path = spooled.files.get(str(value).strip())
        if path is not None:
            return path
    return None
