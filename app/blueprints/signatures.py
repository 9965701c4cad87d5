"""Signing pages: ask for signatures, review and sign a PDF, decline, validation reports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.blueprints.forms import ConfirmForm, errors_onto_form, flash_refusal
from app.blueprints.signature_forms import (
    DeclineForm,
    SignatureRequestForm,
    SignForm,
    ValidateForm,
)
from app.extensions import limiter
from app.httputil import content_disposition, send_version
from app.models import Document, Permission, SignatureRequest
from app.services import documents, pki, signature_evidence, signature_reports, signatures
from app.services.access import get_document, space_permission
from app.services.errors import DomainError, ValidationFailed
from app.unit_of_work import commit_now, keep_on_error

bp = Blueprint("signatures", __name__, url_prefix="/signatures")
# Validation reports word the library's problem codes in the reader's language.
bp.add_app_template_filter(signature_reports.describe_problems, "validation_problems")
bp.add_app_template_filter(signature_reports.describe_report, "validation_verdict")

_SIGN_LIMIT = "20 per minute"


def _user() -> Any:
    return current_user._get_current_object()


def _may_request(document: Document) -> bool:
    if not current_user.is_staff:
        return False
    permission = space_permission(current_user, document.space)
    version = document.current_version
    return (
        permission in (Permission.contribute, Permission.manage)
        and version is not None
        and signatures.is_pdf(version)
    )


def _request_form(document: Document, formdata: Any = None) -> SignatureRequestForm:
    form = SignatureRequestForm(formdata=formdata, prefix="sig")
    people = signatures.signer_candidates(_user(), document)
    choices = [("", "—")] + [(u.id, f"{u.name} <{u.email}>") for u in people]
    for field in form.signer_fields():
        field.choices = choices
    return form


def _panel(document: Document) -> dict[str, Any]:
    """What the document page shows about signatures (see signatures/_document_panel.html)."""
    requests = signatures.list_requests(_user(), document.id)
    may_request = _may_request(document) and not any(r.status in signatures.OPEN for r in requests)
    return {
        "requests": requests,
        "form": _request_form(document) if may_request else None,
        "pdf_versions": [v for v in document.versions if signatures.is_pdf(v)],
    }


@bp.app_context_processor
def signing_helpers() -> dict[str, Any]:
    return {"signature_panel": _panel, "signature_status_label": _status_label}


def _status_label(status: str) -> str:
    labels = {
        "pending": _("Pendiente"),
        "in_progress": _("En curso"),
        "completed": _("Firmado por todos"),
        "declined": _("Rechazado"),
        "cancelled": _("Cancelado"),
        "failed": _("Fallido"),
        "waiting": _("Esperando su turno"),
        "signing": _("Firmando…"),
        "signed": _("Firmado"),
    }
    return labels.get(status, status)


# ------------------------------------------------------------------ asking for signatures


@bp.route("/documents/<document_id>/new", methods=["GET", "POST"])
@login_required
def new(document_id: str):  # type: ignore[no-untyped-def]
    document = get_document(current_user, document_id, Permission.contribute)
    if not current_user.is_staff:
        return render_template("error.html", status=403), 403
    form = _request_form(document, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            created = signatures.request_signatures(
                _user(),
                document.id,
                signer_ids=[f.data for f in form.signer_fields() if f.data],
                level=form.level.data or None,
                certify=bool(form.certify.data),
                due_date=form.due_date.data,
                message=form.message.data,
                any_order=bool(form.any_order.data),
                stamp_page=form.stamp_page.data,
                stamp_position=form.stamp_position.data,
            )
        except DomainError as exc:
            errors_onto_form(
                form,
                exc,
                default="signer_1",
                fields={"signers": "signer_1", "document": "signer_1"},
            )
            status = exc.status
        else:
            flash(_("Solicitud de firma enviada."), "success")
            return redirect(url_for("signatures.detail", request_id=created.id))
    elif request.method == "POST":
        status = 422
    return render_template("signatures/new.html", document=document, form=form), status


# ------------------------------------------------------------------ the request page


def _render(
    item: SignatureRequest,
    *,
    sign_form: SignForm | None = None,
    decline_form: DeclineForm | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    me = signatures.signer_of(item, _user())
    turn = me is not None and me in signatures.whose_turn(item) and me.status == "pending"
    document = item.document
    return (
        render_template(
            "signatures/detail.html",
            item=item,
            document=document,
            me=me,
            turn=turn,
            signing=me is not None and me.status == "signing",
            sign_form=sign_form or SignForm(prefix="sign"),
            confirm=ConfirmForm(),
            decline_form=decline_form or DeclineForm(prefix="dec"),
            seal_available=current_user.is_staff and pki.seal_configured(),
            may_cancel=current_user.is_staff
            and item.status in signatures.OPEN
            and space_permission(current_user, document.space)
            in (Permission.contribute, Permission.manage),
            has_signature=any(s.status == "signed" for s in item.signers),
            stale=document.current_version_number != item.current_version_number,
        ),
        status,
    )


@bp.get("/<request_id>")
@login_required
def detail(request_id: str):  # type: ignore[no-untyped-def]
    return _render(signatures.get_request(_user(), request_id))


@bp.get("/<request_id>/pdf")
@login_required
def pdf(request_id: str) -> Response:
    """The version to sign, shown inline in the signing page's frame."""
    item = signatures.get_request(_user(), request_id)
    user = _user()
    number = item.current_version_number
    version = documents.get_version(user, item.document_id, number)

    def open_download(start: int, length: int | None):  # type: ignore[no-untyped-def]
        return documents.open_version(user, item.document_id, number, start=start, length=length)

    response = send_version(
        version.size, version.sha256, open_download, version.filename, "application/pdf"
    )
    response.headers["Content-Disposition"] = response.headers["Content-Disposition"].replace(
        "attachment;", "inline;", 1
    )
    # Only this site may frame it; no scripts of ours run in it (the viewer is the browser's).
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; object-src 'self'; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/<request_id>/sign")
@login_required
@limiter.limit(_SIGN_LIMIT)
def sign(request_id: str):  # type: ignore[no-untyped-def]
    item = signatures.get_request(_user(), request_id)
    form = SignForm(prefix="sign")
    if not form.validate_on_submit():
        return _render(item, sign_form=form, status=422)
    upload = form.pkcs12.data
    pkcs12 = None
    if upload is not None and getattr(upload, "filename", None):
        pkcs12 = upload.stream.read(signatures.MAX_PKCS12_SIZE + 1)
    try:
        signer = signatures.sign(
            _user(),
            item.id,
            form.otp.data,
            pkcs12=pkcs12,
            password=form.password.data or None,
            method="seal" if form.seal.data else None,
        )
    except signatures.SecondFactorRejected as exc:
        keep_on_error()  # the failed attempt counts against the code
        errors_onto_form(form, exc, default="otp")
        return _render(signatures.get_request(_user(), request_id), sign_form=form, status=422)
    except ValidationFailed as exc:
        errors_onto_form(form, exc, default="otp", fields={"seal": "otp", "csrf_token": "otp"})
        return _render(signatures.get_request(_user(), request_id), sign_form=form, status=422)
    signer_id = signer.id
    # The signing job goes out with the commit, and where jobs run in the web process (the
    # embedded default) it has already signed when this returns: the message says which.
    commit_now()
    done = signatures.get_job(_user(), signer_id)
    if done.status == "signed":
        flash(_("Documento firmado."), "success")
    elif done.last_error:
        flash(done.last_error, "error")
    else:
        flash(_("Estamos firmando el documento; tardará unos segundos."), "success")
    return redirect(url_for("signatures.detail", request_id=request_id))


@bp.post("/<request_id>/email-code")
@login_required
@limiter.limit(_SIGN_LIMIT)
def email_code(request_id: str) -> Response:
    item = signatures.get_request(_user(), request_id)
    if ConfirmForm().validate_on_submit():
        try:
            signatures.send_signature_code(_user(), item.id)
        except DomainError as exc:
            flash_refusal(exc)
        else:
            flash(_("Le hemos enviado un código por e-mail. Caduca en 10 minutos."), "success")
    return redirect(url_for("signatures.detail", request_id=item.id))


@bp.post("/<request_id>/decline")
@login_required
def decline(request_id: str):  # type: ignore[no-untyped-def]
    item = signatures.get_request(_user(), request_id)
    form = DeclineForm(prefix="dec")
    if not form.validate_on_submit():
        return _render(item, decline_form=form, status=422)
    signatures.decline(_user(), item.id, form.reason.data)
    flash(_("Ha rechazado firmar. Se ha avisado al despacho."), "success")
    return redirect(url_for("signatures.detail", request_id=item.id))


@bp.post("/<request_id>/cancel")
@login_required
def cancel(request_id: str) -> Response:
    item = signatures.get_request(_user(), request_id)
    if ConfirmForm().validate_on_submit():
        signatures.cancel_request(_user(), item.id)
        flash(_("Solicitud de firma cancelada."), "success")
    return redirect(url_for("signatures.detail", request_id=item.id))


@bp.get("/<request_id>/evidence")
@login_required
def evidence(request_id: str) -> Response:
    filename, archive = signature_evidence.evidence_package(_user(), request_id)
    response = Response(archive, mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


# ------------------------------------------------------------------ validation


@bp.route("/validate", methods=["GET", "POST"])
@login_required
def validate():  # type: ignore[no-untyped-def]
    form = ValidateForm()
    report = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                report = signature_evidence.validate_upload(_user(), form.file.data.stream)
            except ValidationFailed as exc:
                errors_onto_form(form, exc, default="file")
                status = 422
        else:
            status = 422
    return render_template(
        "signatures/validate.html", form=form, report=report, filename=_filename(form)
    ), status


def _filename(form: ValidateForm) -> str | None:
    data = form.file.data
    return getattr(data, "filename", None) if data is not None else None


@bp.get("/documents/<document_id>/versions/<int:number>/report")
@login_required
def version_report(document_id: str, number: int):  # type: ignore[no-untyped-def]
    document = get_document(current_user, document_id)
    version = documents.get_version(_user(), document.id, number)
    try:
        report = signature_evidence.validate_version(_user(), document.id, number)
        problem = None
    except ValidationFailed as exc:
        report, problem = None, "; ".join(exc.errors.values())
    return render_template(
        "signatures/report.html",
        document=document,
        version=version,
        report=report,
        problem=problem,
    ), (200 if problem is None else 422)
