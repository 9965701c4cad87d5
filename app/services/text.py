"""Text typed by people: checked once, refused when it cannot be kept as sent.

A field that is too long, holds a NUL or other control characters, or is not text at all is
an invalid field (422 with a message per field), never silently cut or turned into a 500.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import gettext as _

#: Control characters kept in multi-line text: tab, line feed, carriage return.
_MULTILINE_CONTROLS = {"\t", "\n", "\r"}


def checked_text(
    errors: dict[str, str],
    field: str,
    value: Any,
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    """``value`` stripped, or ``None`` when empty; a problem goes into ``errors[field]``.

    Returns ``None`` as well when the value is refused, so that the caller can go on
    collecting the other fields' errors before raising ``ValidationFailed``.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.setdefault(field, _("Debe ser un texto."))
        return None
    text = value.strip()
    if not text:
        if required:
            errors.setdefault(field, _("Este campo es obligatorio."))
        return None
    if len(text) > max_length:
        errors.setdefault(
            field,
            _(
                "Como mucho %(count)s caracteres (tiene %(sent)s).",
                count=max_length,
                sent=len(text),
            ),
        )
        return None
    allowed = _MULTILINE_CONTROLS if multiline else set()
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text):
        errors.setdefault(field, _("Contiene caracteres de control que no se pueden guardar."))
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        errors.setdefault(field, _("Contiene caracteres que no son Unicode válido."))
        return None
    return text
