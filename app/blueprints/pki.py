"""Public endpoints of the internal CA and TSA: certificate, CRL, RFC 3161 time-stamping, OCSP.

Anyone verifying a signature made by the portal, years later and elsewhere, may
need them: no login, no CSRF (they carry no session).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from app.extensions import csrf, limiter
from app.services import pki

bp = Blueprint("pki", __name__, url_prefix="/pki")
csrf.exempt(bp)

_MAX_REQUEST = 64 * 1024
_PUBLIC_LIMIT = "120 per minute"


def _der(data: bytes, mimetype: str, filename: str, max_age: int) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def _body(expected_type: str) -> bytes:
    if request.mimetype != expected_type:
        abort(415)
    if (request.content_length or 0) > _MAX_REQUEST:
        abort(413)
    data = request.get_data(cache=False)
    if not data or len(data) > _MAX_REQUEST:
        abort(400)
    return data


@bp.get("/ca.der")
def ca_certificate() -> Response:
    return _der(pki.ca_certificate_der(), "application/pkix-cert", "ca.der", 86400)


@bp.get("/crl.der")
def crl() -> Response:
    return _der(pki.current_crl_der(), "application/pkix-crl", "crl.der", 300)


@bp.post("/tsa")
@limiter.limit(_PUBLIC_LIMIT)
def timestamp() -> Response:
    reply = pki.timestamp_reply(_body("application/timestamp-query"))
    response = Response(reply, mimetype="application/timestamp-reply")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/ocsp")
@limiter.limit(_PUBLIC_LIMIT)
def ocsp() -> Response:
    reply = pki.ocsp_reply(_body("application/ocsp-request"))
    response = Response(reply, mimetype="application/ocsp-response")
    response.headers["Cache-Control"] = "no-store"
    return response
