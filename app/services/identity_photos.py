"""Identity photos as a new client sends them: read within limits, decoded safely.

The size is refused before anything is decoded, the pixels before any is drawn (Pillow's own
bomb limit too), and a PDF gives its first two pages; ``onboarding`` reads and checks what
they show.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

import ocr
from app.services.errors import TooLarge, UnsupportedType, ValidationFailed

#: A phone photo is a few MB; a scan of both sides as PDF a little more.
IDENTITY_MAX_BYTES = 15 * 1024 * 1024
IDENTITY_MAX_PIXELS = 60_000_000


@dataclass(frozen=True)
class IdentityFile:
    """One photo or PDF as sent."""

    stream: BinaryIO
    filename: str | None


def read_limited(upload: IdentityFile, field: str) -> bytes:
    """The file's bytes, refused when empty or over ``IDENTITY_MAX_BYTES`` (read no further)."""
    data = upload.stream.read(IDENTITY_MAX_BYTES + 1)
    if len(data) > IDENTITY_MAX_BYTES:
        raise TooLarge(
            _(
                "La foto «%(name)s» pasa de %(mb)s MB: envíe una más pequeña.",
                name=upload.filename or field,
                mb=IDENTITY_MAX_BYTES // (1024 * 1024),
            ),
            field=field,
        )
    if not data:
        raise ValidationFailed({field: _("El archivo está vacío.")})
    return data


def images_of(data: bytes, field: str) -> list[Image.Image]:
    """The images to read: a photo, or the first two pages of a PDF; ``field`` names the side
    in a refusal (not a photo, too many pixels, a PDF that does not open)."""
    if data[:5] == b"%PDF-":
        try:
            info = ocr.inspect_source(data)
            count = min(info.page_count, 2)
            return [ocr.page_image(data, number) for number in range(1, count + 1)]
        except ocr.OcrError as exc:
            raise ValidationFailed({field: _("No se puede abrir ese PDF.")}) from exc
    try:
        # Opening reads the header only: the size is checked before any pixel is decoded
        # (without touching Pillow's process-wide limit, which other readers rely on).
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > IDENTITY_MAX_PIXELS:
            raise ValidationFailed({field: _("La imagen tiene demasiados píxeles.")})
        image.load()
    except Image.DecompressionBombError as exc:  # Pillow's own limit, met while opening
        raise ValidationFailed({field: _("La imagen tiene demasiados píxeles.")}) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise UnsupportedType(
            _("Envíe una foto (JPEG, PNG, HEIC) o un PDF del documento."), field=field
        ) from exc
    return [image]
