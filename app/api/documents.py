"""Documents and versions."""

from __future__ import annotations

from flask import Response, jsonify, request

from app.api import api_bp, caller
from app.api.schemas import DocumentSchema, VersionSchema, dump_page
from app.httputil import send_version
from app.models import Permission
from app.services import documents
from app.services.access import get_document as load_document
from app.services.access import get_space as load_space
from app.services.errors import ValidationFailed
from app.services.paging import page_args


def _file():  # type: ignore[no-untyped-def]
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed({"file": "Adjunte un archivo en el campo 'file'."})
    return upload


@api_bp.post("/spaces/<space_id>/documents")
def upload_document(space_id: str) -> tuple[Response, int]:
    load_space(caller(), space_id, Permission.contribute)  # 404 before reading the form
    upload = _file()
    document = documents.upload_document(
        caller(),
        space_id,
        upload.stream,
        filename=upload.filename,
        title=request.form.get("title"),
        visibility=request.form.get("visibility"),
        category=request.form.get("category"),
        folder_id=request.form.get("folder_id"),
        note=request.form.get("note"),
    )
    return jsonify(DocumentSchema().dump(document)), 201


@api_bp.get("/spaces/<space_id>/documents")
def list_documents(space_id: str) -> Response:
    found = documents.list_documents(
        caller(),
        space_id,
        state=request.args.get("state"),
        q=request.args.get("q"),
        category=request.args.get("category"),
        page=page_args(request.args),
    )
    return jsonify(dump_page(DocumentSchema, found, found.next))


@api_bp.get("/documents/<document_id>")
def get_document(document_id: str) -> Response:
    return jsonify(DocumentSchema().dump(load_document(caller(), document_id)))


@api_bp.patch("/documents/<document_id>")
def rename_document(document_id: str) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("title"), str):
        raise ValidationFailed({"title": "Envíe un objeto JSON con el nuevo 'title'."})
    document = documents.rename_document(caller(), document_id, body["title"])
    return jsonify(DocumentSchema().dump(document))


@api_bp.delete("/documents/<document_id>")
def delete_document(document_id: str) -> tuple[str, int]:
    documents.delete_document(caller(), document_id)
    return "", 204


@api_bp.post("/documents/<document_id>/versions")
def upload_version(document_id: str) -> tuple[Response, int]:
    load_document(caller(), document_id, Permission.contribute)
    upload = _file()
    version = documents.upload_version(
        caller(),
        document_id,
        upload.stream,
        filename=upload.filename,
        note=request.form.get("note"),
    )
    return jsonify(VersionSchema().dump(version)), 201


@api_bp.get("/documents/<document_id>/versions")
def list_versions(document_id: str) -> Response:
    versions = documents.list_versions(caller(), document_id, page_args(request.args))
    return jsonify(dump_page(VersionSchema, versions, versions.next))


@api_bp.get("/documents/<document_id>/versions/<int:number>")
def get_version(document_id: str, number: int) -> Response:
    return jsonify(VersionSchema().dump(documents.get_version(caller(), document_id, number)))


@api_bp.get("/documents/<document_id>/versions/<int:number>/content")
def version_content(document_id: str, number: int) -> Response:
    user = caller()
    version = documents.get_version(user, document_id, number)

    def open_download(start: int, length: int | None):  # type: ignore[no-untyped-def]
        download = documents.open_version(user, document_id, number, start=start, length=length)
        return download

    return send_version(
        version.size,
        version.sha256,
        open_download,
        version.filename,
        version.content_type,
        allow_redirect=True,
    )


@api_bp.post("/documents/<document_id>/versions/<int:number>/restore")
def restore_version(document_id: str, number: int) -> tuple[Response, int]:
    version = documents.restore_version(caller(), document_id, number)
    return jsonify(VersionSchema().dump(version)), 201
