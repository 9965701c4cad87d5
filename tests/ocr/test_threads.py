"""Pages rendered from several threads at once, as a threaded web server does for page images."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from portal_signing import annual_accounts_pdf

from ocr.pipeline import inspect_source, page_image, text_layer
from ocr.settings import OcrOptions


def test_pages_render_from_many_threads_without_crashing_the_process():
    # pdfium is not thread-safe: without the library's lock this segfaults within a few calls
    data = annual_accounts_pdf(3, "Cuentas anuales")
    options = OcrOptions(dpi=72, min_text_layer_chars=8)

    def work(worker: int) -> list[tuple[int, int]]:
        sizes = []
        for round_ in range(20):
            number = (worker + round_) % 3 + 1
            assert inspect_source(data).page_count == 3
            page = text_layer(data, number, options=options)
            assert page is not None and f"- {number}" in page.text
            sizes.append(page_image(data, number, options=options).size)
        return sizes

    with ThreadPoolExecutor(6) as pool:
        results = [size for sizes in pool.map(work, range(6)) for size in sizes]
    assert results == [(595, 842)] * 120
