"""OCR engines: a small Protocol, a registry, and the tesseract engine (through pytesseract)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from ocr.errors import EngineUnavailable, OcrError, OcrTimeout, UnreadableFile
from ocr.results import PageText, Word

__all__ = [
    "OcrEngine",
    "TesseractEngine",
    "available_engines",
    "get_engine",
    "register_engine",
]


@runtime_checkable
class OcrEngine(Protocol):
    """Turns one page image into a ``PageText`` with word boxes and confidences."""

    @property
    def name(self) -> str:
        """Registry name of the engine."""
        ...

    def recognize(
        self,
        image: Image.Image | Path,
        *,
        page_number: int = 1,
        timeout_seconds: float = 0,
        dpi: int = 0,
    ) -> PageText:
        """Recognise one page; a ``Path`` must be an image file the engine reads directly.

        ``dpi`` is the image's resolution when known (0 lets the engine guess).
        """
        ...


_ENGINES: dict[str, Callable[..., OcrEngine]] = {}


def register_engine(name: str, factory: Callable[..., OcrEngine]) -> None:
    """Register ``factory`` (called with the engine options) under ``name``."""
    _ENGINES[name] = factory


def available_engines() -> tuple[str, ...]:
    """Return the names of the registered engines."""
    return tuple(sorted(_ENGINES))


def get_engine(name: str = "tesseract", **options: Any) -> OcrEngine:
    """Build the engine registered as ``name`` with ``options``."""
    try:
        factory = _ENGINES[name]
    except KeyError:
        raise EngineUnavailable(f"no OCR engine named {name!r}") from None
    return factory(**options)


@dataclass(frozen=True, slots=True)
class TesseractEngine:
    """Tesseract through pytesseract, keeping words, boxes and confidences (TSV output)."""

    lang: str = "spa+eng"
    #: Tesseract page segmentation mode; 3 is automatic layout analysis.
    psm: int = 3
    extra_config: str = ""
    #: Value given to ``OMP_THREAD_LIMIT``; None leaves the environment alone.
    omp_thread_limit: int | None = 1

    @property
    def name(self) -> str:
        """Registry name of the engine."""
        return "tesseract"

    def recognize(
        self,
        image: Image.Image | Path,
        *,
        page_number: int = 1,
        timeout_seconds: float = 0,
        dpi: int = 0,
    ) -> PageText:
        """Run tesseract on one page image and return its words."""
        if isinstance(image, Path):
            with Image.open(image) as header:
                width, height = header.size
            return self._run(str(image), page_number, width, height, timeout_seconds, dpi)
        with tempfile.TemporaryDirectory(prefix="ocr-") as directory:
            # An uncompressed PNM is written and read far faster than the PNG pytesseract
            # would make, which keeps the pipeline close to the bare tesseract command.
            # PNM carries no resolution, hence --dpi: guessing it costs tesseract time.
            path = Path(directory) / ("page.pbm" if image.mode == "1" else "page.pnm")
            image.save(path, format="PPM")
            return self._run(
                str(path), page_number, image.width, image.height, timeout_seconds, dpi
            )

    def _run(
        self,
        path: str,
        page_number: int,
        width: int,
        height: int,
        timeout_seconds: float,
        dpi: int,
    ) -> PageText:
        if self.omp_thread_limit is not None:
            # pytesseract starts tesseract with this process's environment and offers no
            # per-call one; one OpenMP thread per tesseract lets worker processes scale
            # instead of fighting over cores.
            os.environ["OMP_THREAD_LIMIT"] = str(self.omp_thread_limit)
        config = f"--psm {self.psm} {'--dpi ' + str(dpi) if dpi > 0 else ''} {self.extra_config}"
        config = " ".join(config.split())
        # Imported on first use: pytesseract loads numpy, which a web process that builds
        # engines (ocr.identity does at import) but serves only pages should not carry.
        import pytesseract

        try:
            data = pytesseract.image_to_data(
                path,
                lang=self.lang,
                config=config,
                timeout=timeout_seconds,
                output_type=pytesseract.Output.DICT,
            )
        except pytesseract.TesseractNotFoundError as error:
            raise EngineUnavailable("the tesseract program is not installed") from error
        except pytesseract.TesseractError as error:
            raise UnreadableFile(f"tesseract failed: {error}") from error
        except RuntimeError as error:
            if "timeout" in str(error).lower():
                raise OcrTimeout(
                    f"OCR of page {page_number} took over {timeout_seconds} s"
                ) from error
            raise OcrError(str(error)) from error
        return PageText.from_words(
            page_number, _words_from_tsv(data), width, height, method="ocr", dpi=max(dpi, 0)
        )


def _words_from_tsv(data: dict[str, list[Any]]) -> list[Word]:
    """Turn pytesseract's TSV dict into words, skipping empty and layout-only rows."""
    words: list[Word] = []
    for i, level in enumerate(data.get("level", ())):
        text = str(data["text"][i]).strip()
        if int(level) != 5 or not text:
            continue
        confidence = max(0.0, min(100.0, float(data["conf"][i])))
        left, top = int(data["left"][i]), int(data["top"][i])
        box = (left, top, left + int(data["width"][i]), top + int(data["height"][i]))
        key = f"{data['block_num'][i]}.{data['par_num'][i]}.{data['line_num'][i]}"
        words.append(Word(text=text, confidence=confidence, box=box, line_key=key))
    return words


register_engine("tesseract", TesseractEngine)
