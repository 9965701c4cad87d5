"""Previews and comparisons of stored files: pure rendering and image work.

Imports neither the web application, Flask nor SQLAlchemy. ``previews.rendering`` draws
thumbnails, page images, DXF drawings as SVG and video posters, each in a contained child
process when the file is untrusted; the names below are its public ones.
"""

from previews.rendering import (
    DEFAULT_LIMITS,
    CorruptFile,
    EncryptedFile,
    PageOutOfRange,
    PreviewError,
    PreviewKind,
    PreviewLimits,
    PreviewRequest,
    RenderTimeout,
    Rendition,
    TooLarge,
    ToolUnavailable,
    UnsupportedFile,
    ffmpeg_available,
    kind_for,
    render,
    render_contained,
)

__all__ = [
    "DEFAULT_LIMITS",
    "CorruptFile",
    "EncryptedFile",
    "PageOutOfRange",
    "PreviewError",
    "PreviewKind",
    "PreviewLimits",
    "PreviewRequest",
    "RenderTimeout",
    "Rendition",
    "ToolUnavailable",
    "TooLarge",
    "UnsupportedFile",
    "ffmpeg_available",
    "kind_for",
    "render",
    "render_contained",
]
