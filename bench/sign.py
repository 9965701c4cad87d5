"""Signing benchmark: raw SHA-256, bare pyHanko and the portal's sign_pdf, 1 and 300 pages.

Run standalone: ``.venv/bin/python bench/sign.py [--repeat N]``. Everything happens
offline in a temporary directory (internal CA and TSA, in-process timestamps).
Timings are medians of warm runs (keys loaded and TSA client primed once, as in a
worker process); peak memory is measured in a separate tracemalloc pass.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import logging
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asn1crypto import keys as asn1_keys  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402
from pyhanko.pdf_utils import generic  # noqa: E402
from pyhanko.pdf_utils.generic import pdf_name  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.fields import SigSeedSubFilter  # noqa: E402
from pyhanko.sign.general import get_pyca_cryptography_hash  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402
from pyhanko_certvalidator.registry import SimpleCertificateStore  # noqa: E402

from signing import InternalCaSigner, SignOptions, create_pki, sign_pdf, validate_pdf  # noqa: E402
from signing.material import load_certificates  # noqa: E402

LINES_PER_PAGE = 40


def make_pdf(pages: int) -> bytes:
    """A text PDF with compressed page contents, roughly like exported annual accounts."""
    writer = PdfFileWriter()
    font = writer.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
    )
    for number in range(1, pages + 1):
        lines = [
            f"BT /F1 9 Tf 56 {800 - 18 * row} Td (Page {number} line {row}: "
            f"account {number * 1000 + row} balance {(number * 7919 + row * 104729) % 99991}.00 "
            f"EUR) Tj ET"
            for row in range(LINES_PER_PAGE)
        ]
        stream = generic.StreamObject(
            {pdf_name("/Filter"): pdf_name("/FlateDecode")},
            encoded_data=zlib.compress("\n".join(lines).encode()),
        )
        writer.insert_page(
            PageObject(
                contents=writer.add_object(stream), media_box=(0, 0, 595, 842), resources=resources
            )
        )
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


class _PreloadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, but with the key parsed once (SimpleSigner re-parses it per call)."""

    def __init__(self, *args: object, key: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._parsed = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return self._parsed.sign(  # type: ignore[attr-defined]
            data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
        )


def interleaved_medians(actions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds per action, running the actions round-robin so noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for action in actions.values():
        action()  # warm-up
    for _ in range(repeat):
        for name, action in actions.items():
            gc.collect()
            start = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_bytes(action: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per case (median)")
    parser.add_argument("--pages", type=int, nargs="*", default=[1, 300])
    arguments = parser.parse_args()
    # pyHanko warns on every offline LTV signature that fetching is disabled: expected here.
    logging.getLogger("pyhanko").setLevel(logging.ERROR)

    workdir = tempfile.TemporaryDirectory(prefix="sign-bench-")
    pki = create_pki(
        workdir.name, b"bench-passphrase", organisation="Bench SL", base_url="https://bench.invalid"
    )
    issued = pki.issue_signer_certificate("Bench Signer", "bench@example.test")
    source = InternalCaSigner(pki, issued)
    material = pki.validation_material()
    timestamper = pki.timestamper()

    certificate = load_certificates(issued.certificate_pem)[0]
    key = pki.signer_key(issued.key_pem)
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    registry = SimpleCertificateStore()
    registry.register_multiple(load_certificates(pki.ca_certificate_der))
    simple = signers.SimpleSigner(certificate, key_info, registry)
    preloaded = _PreloadedKeySigner(certificate, key_info, registry, key=key)

    def bare(signer: signers.Signer, data: bytes, level: str) -> bytes:
        lta = level == "B-LTA"
        context = (
            ValidationContext(
                trust_roots=load_certificates(pki.ca_certificate_der),
                crls=list(material.crls),
                revocation_mode="hard-fail",
            )
            if lta
            else None
        )
        metadata = signers.PdfSignatureMetadata(
            field_name="Signature1",
            md_algorithm="sha256",
            subfilter=SigSeedSubFilter.PADES,
            embed_validation_info=lta,
            use_pades_lta=lta,
            validation_context=context,
        )
        output = signers.sign_pdf(
            IncrementalPdfFileWriter(BytesIO(data)),
            metadata,
            signer=signer,
            timestamper=timestamper if lta else None,
        )
        return output.getvalue()

    def ours(data: bytes, level: str) -> bytes:
        options = SignOptions(
            level=level,
            timestamper=timestamper,  # type: ignore[arg-type]
            validation=material,
        )
        return sign_pdf(data, source, options)

    print(f"Python {sys.version.split()[0]}, median of {arguments.repeat} warm runs\n")
    header = (
        f"{'case':<14}{'sha256':>9}{'pyHanko':>10}{'pyHanko*':>10}{'ours':>9}"
        f"{'ours/pyH':>10}{'ours/pyH*':>11}{'peak MiB':>10}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    for pages in arguments.pages:
        data = make_pdf(pages)
        for level in ("B-B", "B-LTA"):
            check = validate_pdf(
                ours(data, level), trust_roots=material.trust_roots, crls=material.crls
            )
            assert check.valid and check.signatures[0].level == level, check.reason
            times = interleaved_medians(
                {
                    "raw": lambda d=data: hashlib.sha256(d).digest(),
                    "simple": lambda d=data, lv=level: bare(simple, d, lv),
                    "preloaded": lambda d=data, lv=level: bare(preloaded, d, lv),
                    "ours": lambda d=data, lv=level: ours(d, lv),
                },
                arguments.repeat,
            )
            raw, t_simple, t_pre, t_ours = (
                times["raw"],
                times["simple"],
                times["preloaded"],
                times["ours"],
            )
            peak = peak_bytes(lambda d=data, lv=level: ours(d, lv))
            name = f"{pages}p {level}"
            print(
                f"{name:<14}{raw * 1e3:>7.2f}ms{t_simple * 1e3:>8.1f}ms{t_pre * 1e3:>8.1f}ms"
                f"{t_ours * 1e3:>7.1f}ms{t_ours / t_simple:>9.2f}x{t_ours / t_pre:>10.2f}x"
                f"{peak / 2**20:>10.1f}"
            )
            verdicts.append((name, t_ours, t_ours / t_pre, len(data)))

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        "\nPDF sizes: "
        + ", ".join(
            f"{name.split()[0]} {size / 1024:.0f} KiB" for name, _t, _r, size in verdicts[::2]
        )
    )
    print(f"Process max RSS: {rss:.0f} MiB")
    print("pyHanko  = pyHanko sign_pdf with SimpleSigner (re-parses the RSA key on every call)")
    print("pyHanko* = the same with the key parsed once, the stricter baseline")
    print("\nTargets:")
    for name, seconds, ratio, _size in verdicts:
        ok_ratio = ratio <= 1.2
        line = f"  {name:<12} ours/pyHanko* = {ratio:.2f} ({'ok' if ok_ratio else 'OVER'} <= 1.2)"
        if name == f"{max(arguments.pages)}p B-B":
            line += f"; {seconds * 1e3:.1f} ms ({'ok' if seconds < 0.150 else 'OVER'} < 150 ms)"
        print(line)
    workdir.cleanup()


if __name__ == "__main__":
    main()
