"""Signing at every PAdES level, ordered signers, signer sources and refused input."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from pypdf import PdfReader, PdfWriter

from signing import (
    CertificateRevoked,
    EmptyPdf,
    EncryptedPdf,
    FieldAlreadySigned,
    FieldNotFound,
    FieldSpec,
    InternalCaSigner,
    InvalidCredentials,
    InvalidPdf,
    IssuedSigner,
    Pkcs12Signer,
    Pki,
    SignerSource,
    SigningError,
    SignOptions,
    StampSpec,
    TimestampUnavailable,
    ValidationMaterial,
    WrongPassword,
    add_document_timestamp,
    build_signer_source,
    last_timestamp_expiry,
    sign_pdf,
    signer_source_kinds,
    validate_pdf,
)
from signing.sign import Level


def _validate(data: bytes, material: ValidationMaterial):  # noqa: ANN202 - report type
    return validate_pdf(data, trust_roots=material.trust_roots, crls=material.crls)


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_each_level_signs_and_validates_as_reached(
    level: Level, pdf: bytes, client: InternalCaSigner, pki: Pki, material: ValidationMaterial
) -> None:
    signed = sign_pdf(
        pdf,
        client,
        SignOptions(
            level=level,
            reason="Approval of the annual accounts",
            timestamper=pki.timestamper(),
            validation=material,
        ),
    )

    report = _validate(signed, material)
    assert report.valid, report.reason
    (signature,) = report.signatures
    assert signature.level == level
    assert signature.signer == "María Núñez Ortega"
    assert signature.intact and signature.valid and signature.trusted and signature.bottom_line
    assert (signature.timestamp is None) == (level == "B-B")
    assert len(report.document_timestamps) == (1 if level == "B-LTA" else 0)
    assert signed.startswith(pdf)  # an incremental update: the original bytes are untouched


def test_pdfsig_agrees_the_digests_of_a_signed_file_match(
    pdf: bytes,
    client: InternalCaSigner,
    pki: Pki,
    material: ValidationMaterial,
    pdfsig: Callable[[bytes], str],
) -> None:
    signed = sign_pdf(
        pdf, client, SignOptions(level="B-LTA", timestamper=pki.timestamper(), validation=material)
    )
    output = pdfsig(signed)
    assert output.count("Signature Validation: Signature is Valid.") == 1, output
    assert "Digest Mismatch" not in output


def test_firm_certifies_then_client_signs_the_precreated_field(
    make_pdf: Callable[..., bytes],
    firm: InternalCaSigner,
    client: InternalCaSigner,
    pki: Pki,
    material: ValidationMaterial,
) -> None:
    contract = make_pdf(2, "Engagement letter")
    certified = sign_pdf(
        contract,
        firm,
        SignOptions(
            level="B-LTA",
            field_name="Firm",
            certify=True,
            reason="Issued by the firm",
            new_fields=(FieldSpec("Client", page=-1, box=(320, 60, 560, 130)),),
            stamp=StampSpec(page=-1, box=(40, 60, 280, 130)),
            timestamper=pki.timestamper(),
            validation=material,
        ),
    )
    signed = sign_pdf(
        certified,
        client,
        SignOptions(
            level="B-LTA",
            field_name="Client",
            require_existing_field=True,
            reason="I approve this contract",
            location="Madrid",
            timestamper=pki.timestamper(),
            validation=material,
        ),
    )

    report = _validate(signed, material)
    assert report.valid, report.reason
    firm_signature, client_signature = report.signatures
    assert firm_signature.field == "Firm" and firm_signature.certification
    assert firm_signature.modification_level == "form_filling"
    assert firm_signature.coverage == "entire_revision"
    assert client_signature.field == "Client" and not client_signature.certification
    assert [firm_signature.level, client_signature.level] == ["B-LTA", "B-LTA"]

    widgets = {
        str(annotation.get_object().get("/T")): [float(v) for v in annotation.get_object()["/Rect"]]
        for annotation in PdfReader(BytesIO(signed)).pages[-1]["/Annots"]
    }
    assert widgets["Client"] == [320, 60, 560, 130]
    assert widgets["Firm"] == [40, 60, 280, 130]

    with pytest.raises(FieldAlreadySigned):
        sign_pdf(signed, client, SignOptions(field_name="Client"))
    with pytest.raises(FieldNotFound):
        sign_pdf(certified, client, SignOptions(field_name="Partner", require_existing_field=True))


def test_a_second_certification_is_refused(
    pdf: bytes, firm: InternalCaSigner, client: InternalCaSigner
) -> None:
    signed = sign_pdf(pdf, client, SignOptions())
    with pytest.raises(SigningError, match="[Cc]ertification"):
        sign_pdf(signed, firm, SignOptions(field_name="Firm", certify=True))


def _pkcs12(pki: Pki, issued: IssuedSigner, password: bytes) -> bytes:
    key = pki.signer_key(issued.key_pem)
    return pkcs12.serialize_key_and_certificates(
        b"fnmt",
        key,
        issued.certificate,
        [pki.ca_certificate],  # type: ignore[arg-type]
        serialization.BestAvailableEncryption(password),
    )


def test_pkcs12_upload_signs_and_a_wrong_password_is_refused(
    pdf: bytes, pki: Pki, material: ValidationMaterial
) -> None:
    issued = pki.issue_signer_certificate("Jorge Ruiz (FNMT)", "jorge@cliente.test")
    bundle = _pkcs12(pki, issued, b"p12-password")

    with Pkcs12Signer(bundle, b"p12-password") as source:
        signed = sign_pdf(pdf, source, SignOptions(level="B-T", timestamper=pki.timestamper()))
    report = _validate(signed, material)
    assert report.valid, report.reason
    assert report.signatures[0].signer == "Jorge Ruiz (FNMT)"

    with pytest.raises(WrongPassword):
        Pkcs12Signer(bundle, b"wrong")
    with pytest.raises(WrongPassword):
        build_signer_source("pkcs12", data=bundle, password=None)
    with pytest.raises(InvalidCredentials):
        Pkcs12Signer(b"not a pkcs12 file", b"p12-password")


def test_signer_sources_come_from_a_registry(pki: Pki, client_cert: IssuedSigner) -> None:
    assert {"internal", "pkcs12", "pkcs11"} <= set(signer_source_kinds())
    source = build_signer_source("internal", pki=pki, issued=client_cert)
    assert isinstance(source, SignerSource)
    assert source.certificate.sha256.hex() == client_cert.fingerprint_sha256
    with pytest.raises(SigningError, match="Unknown signer source"):
        build_signer_source("smartcard")


def test_revoked_certificate_is_refused_at_signing_and_reported_at_validation(
    pdf: bytes, pki: Pki
) -> None:
    issued = pki.issue_signer_certificate("Empleado Saliente", "saliente@firma.test")
    source = InternalCaSigner(pki, issued)
    signed_before = sign_pdf(
        pdf,
        source,
        SignOptions(
            level="B-T", timestamper=pki.timestamper(), validation=pki.validation_material()
        ),
    )

    pki.revoke(issued.serial, "key_compromise")
    material = pki.validation_material()
    for level in ("B-B", "B-LTA"):
        with pytest.raises(CertificateRevoked):
            sign_pdf(
                pdf,
                source,
                SignOptions(level=level, timestamper=pki.timestamper(), validation=material),
            )

    report = _validate(signed_before, material)
    assert not report.valid
    (signature,) = report.signatures
    assert signature.revoked and not signature.trusted and not signature.bottom_line
    assert signature.level is None
    assert "revoked" in (signature.reason or "")


def _encrypted(make_pdf: Callable[..., bytes], user_password: str) -> bytes:
    writer = PdfWriter(clone_from=BytesIO(make_pdf(1)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def test_bad_input_gives_specific_errors(
    make_pdf: Callable[..., bytes], client: InternalCaSigner
) -> None:
    encrypted = _encrypted(make_pdf, "user-secret")
    with pytest.raises(EncryptedPdf):
        sign_pdf(encrypted, client, SignOptions())
    with pytest.raises(WrongPassword):
        sign_pdf(encrypted, client, SignOptions(), password=b"guess")
    with pytest.raises(InvalidPdf, match="Not a PDF"):
        sign_pdf(b"PK\x03\x04 this is a zip file", client, SignOptions())
    with pytest.raises(InvalidPdf):
        sign_pdf(
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF", client, SignOptions()
        )
    truncated = make_pdf(1)[:200]
    with pytest.raises(InvalidPdf):
        sign_pdf(truncated, client, SignOptions())

    no_pages = BytesIO()
    PdfWriter().write(no_pages)
    with pytest.raises(EmptyPdf):
        sign_pdf(no_pages.getvalue(), client, SignOptions())
    assert not isinstance(EmptyPdf("x"), WrongPassword)


def test_encrypted_pdf_signs_with_its_password(
    make_pdf: Callable[..., bytes], client: InternalCaSigner, material: ValidationMaterial
) -> None:
    encrypted = _encrypted(make_pdf, "user-secret")
    signed = sign_pdf(encrypted, client, SignOptions(), password=b"user-secret")
    report = validate_pdf(
        signed, trust_roots=material.trust_roots, crls=material.crls, password=b"user-secret"
    )
    assert report.valid, report.reason


def test_input_may_be_a_file_object_or_a_path(
    pdf: bytes,
    client: InternalCaSigner,
    tmp_path,
    material: ValidationMaterial,  # noqa: ANN001
) -> None:
    path = tmp_path / "accounts.pdf"
    path.write_bytes(pdf)
    from_path = sign_pdf(path, client, SignOptions())
    with path.open("rb") as handle:
        from_file = sign_pdf(handle, client, SignOptions())
    assert _validate(from_path, material).valid
    assert _validate(from_file, material).valid


def test_document_timestamp_refresh_extends_the_chain(
    pdf: bytes, client: InternalCaSigner, pki: Pki, material: ValidationMaterial
) -> None:
    signed = sign_pdf(
        pdf, client, SignOptions(level="B-LTA", timestamper=pki.timestamper(), validation=material)
    )
    expiry = last_timestamp_expiry(signed)
    assert expiry == pki.tsa_certificate.not_valid_after_utc

    refreshed = add_document_timestamp(signed, pki.timestamper(), material)

    report = _validate(refreshed, material)
    assert report.valid, report.reason
    assert len(report.document_timestamps) == 2
    assert report.signatures[0].level == "B-LTA"
    assert last_timestamp_expiry(sign_pdf(pdf, client, SignOptions())) is None


class _TsaHandler(BaseHTTPRequestHandler):
    pki: Pki

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        reply = self.pki.timestamp_response(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def tsa_url(pki: Pki) -> Iterator[str]:
    handler = type("Handler", (_TsaHandler,), {"pki": pki})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/pki/tsa"
    finally:
        server.shutdown()
        server.server_close()


def test_an_external_tsa_url_is_used_over_http(
    pdf: bytes, client: InternalCaSigner, tsa_url: str, material: ValidationMaterial
) -> None:
    signed = sign_pdf(
        pdf, client, SignOptions(level="B-LTA", timestamper=tsa_url, validation=material)
    )
    report = _validate(signed, material)
    assert report.valid, report.reason
    assert report.signatures[0].level == "B-LTA"


def test_levels_above_b_b_need_their_material(pdf: bytes, client: InternalCaSigner) -> None:
    with pytest.raises(SigningError, match="Unknown PAdES level"):
        sign_pdf(pdf, client, SignOptions(level="B-XL"))  # type: ignore[arg-type]
    with pytest.raises(SigningError, match="time-stamping"):
        sign_pdf(pdf, client, SignOptions(level="B-T"))
    with pytest.raises(SigningError, match="revocation"):
        sign_pdf(pdf, client, SignOptions(level="B-LT", timestamper="http://127.0.0.1:9/"))


def _ocsp_response(pki: Pki, certificate: x509.Certificate) -> bytes:
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, pki.ca_certificate, hashes.SHA256())
        .build()
    )
    return pki.respond_ocsp(request.public_bytes(serialization.Encoding.DER))


def test_b_lta_with_ocsp_responses_from_the_portal_responder(
    pdf: bytes, client: InternalCaSigner, client_cert: IssuedSigner, pki: Pki
) -> None:
    material = ValidationMaterial(
        trust_roots=(pki.ca_certificate_der,),
        ocsp_responses=(
            _ocsp_response(pki, client_cert.certificate),
            _ocsp_response(pki, pki.tsa_certificate),
        ),
    )
    signed = sign_pdf(
        pdf, client, SignOptions(level="B-LTA", timestamper=pki.timestamper(), validation=material)
    )

    report = validate_pdf(signed, trust_roots=material.trust_roots)  # only what the PDF holds
    assert report.valid, report.reason
    assert report.signatures[0].level == "B-LTA"


def test_visible_stamp_shows_name_date_and_reason(pdf: bytes, client: InternalCaSigner) -> None:
    signed = sign_pdf(
        pdf,
        client,
        SignOptions(
            reason="Approval of the accounts", stamp=StampSpec(page=1, box=(300, 40, 560, 110))
        ),
    )
    page = PdfReader(BytesIO(signed)).pages[1]
    (widget,) = [annotation.get_object() for annotation in page["/Annots"]]
    assert [float(value) for value in widget["/Rect"]] == [300, 40, 560, 110]
    appearance = widget["/AP"]["/N"].get_object().get_data()
    assert b"(Signed by Mar\\355a N\\372\\361ez Ortega " in appearance  # WinAnsi escapes
    assert b"Date\\072 20" in appearance
    assert b"(Reason\\072 Approval of the accounts)" in appearance


def test_issued_signer_round_trips_through_stored_pems(
    pdf: bytes, pki: Pki, client_cert: IssuedSigner, material: ValidationMaterial
) -> None:
    stored = IssuedSigner.from_pem(client_cert.key_pem, client_cert.certificate_pem)
    assert stored == client_cert
    signed = sign_pdf(pdf, InternalCaSigner(pki, stored), SignOptions())
    assert _validate(signed, material).valid


def test_an_unreachable_tsa_is_a_clear_error(pdf: bytes, client: InternalCaSigner) -> None:
    with pytest.raises(TimestampUnavailable):
        sign_pdf(pdf, client, SignOptions(level="B-T", timestamper="http://127.0.0.1:9/tsa"))


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_signature_room_is_estimated_once_and_a_bigger_container_still_signs(
    level: Level, pdf: bytes, client: InternalCaSigner, pki: Pki, material: ValidationMaterial
) -> None:
    """A warm worker reserves room for the container from its first estimate; if a container
    ever outgrows that room (a bigger timestamp token), the signature is made anyway."""
    from signing import sign as signing_module

    options = SignOptions(level=level, timestamper=pki.timestamper(), validation=material)
    signing_module._RESERVED.clear()
    first = sign_pdf(pdf, client, options)
    assert len(signing_module._RESERVED) == 1
    (key,) = signing_module._RESERVED
    second = sign_pdf(pdf, client, options)
    # The same room both times: the /Contents placeholders have the same size.
    assert len(second) == len(first)

    signing_module._RESERVED[key] = 64  # far too small for any CMS container
    third = sign_pdf(pdf, client, options)
    assert key not in signing_module._RESERVED or signing_module._RESERVED[key] > 64
    for signed in (first, second, third):
        report = _validate(signed, material)
        assert report.valid, report.reason
        assert report.signatures[0].level == level
