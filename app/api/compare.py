"""What changed between two versions of a document (docs/api.md "Compare")."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from app.api import SESSION_ENDPOINTS, api_bp, caller
from app.api.schemas import CompareSchema
from app.services import compare
from app.unit_of_work import commit_now


@api_bp.get("/documents/<document_id>/compare")
def compare_versions(document_id: str) -> Response:
    comparison = compare.request_compare(
        caller(), document_id, request.args.get("from"), request.args.get("to")
    )
    # its job, if one was needed, goes out with the commit (or runs here, in test apps)
    commit_now()
    if comparison.result is None:  # done meanwhile (jobs that run in the web process)
        comparison = compare.request_compare(
            caller(), document_id, comparison.older.number, comparison.newer.number
        )
    answer = jsonify(CompareSchema().dump(_answer(comparison)))
    answer.headers["Cache-Control"] = "private, no-store"
    if comparison.status in ("queued", "running"):
        answer.headers["Retry-After"] = "2"
    return answer


@api_bp.get("/documents/<document_id>/compare/image")
def compare_image(document_id: str) -> Response:
    comparison = compare.request_compare(
        caller(), document_id, request.args.get("from"), request.args.get("to")
    )
    commit_now()
    if comparison.result is None:  # done meanwhile (jobs that run in the web process)
        comparison = compare.request_compare(
            caller(), document_id, comparison.older.number, comparison.newer.number
        )
    chunks = compare.image_chunks(comparison, request.args.get("name", ""))
    response = Response(chunks, mimetype="image/jpeg", direct_passthrough=True)
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# the compare page asks for the status and shows the images with the browser session
SESSION_ENDPOINTS.update({"api.compare_versions", "api.compare_image"})


def image_url(comparison: compare.Comparison, name: str | None) -> str | None:
    if not name:
        return None
    return url_for(
        "api.compare_image",
        document_id=comparison.document.id,
        **{"from": comparison.older.number, "to": comparison.newer.number, "name": name},
    )


def _answer(comparison: compare.Comparison) -> dict[str, Any]:
    row = comparison.row
    status = comparison.status
    answer: dict[str, Any] = {
        "document_id": comparison.document.id,
        "from": comparison.older.number,
        "to": comparison.newer.number,
        "status": status,
        "error": row.error if status == "failed" else None,
        "kind": None,
        "changed": None,
        "pages": [],
        "overlay_urls": [],
        "dxf": None,
    }
    result = comparison.result
    if result is None:
        return answer
    answer["kind"] = result.kind
    answer["changed"] = result.changed
    for page in result.pages:
        urls = {
            side: image_url(comparison, page.images.get(side)) for side in ("overlay", "from", "to")
        }
        answer["pages"].append(
            {
                "from_page": page.from_page,
                "to_page": page.to_page,
                "changed_areas": [{"box": list(a.box)} for a in page.changed_areas],
                "words_added": [{"text": w.text, "box": list(w.box)} for w in page.words_added],
                "words_removed": [{"text": w.text, "box": list(w.box)} for w in page.words_removed],
                "words_omitted": page.words_omitted,
                "overlay_url": urls["overlay"],
                "from_url": urls["from"],
                "to_url": urls["to"],
                "image_size": list(page.image_size) if page.image_size else None,
            }
        )
        if urls["overlay"]:
            answer["overlay_urls"].append(urls["overlay"])
    if result.dxf is not None:
        answer["dxf"] = {
            "matched_by": result.dxf.matched_by,
            **{
                name: [
                    {
                        "handle": e.handle,
                        "type": e.type,
                        "layer": e.layer,
                        "extents": list(e.extents) if e.extents else None,
                        "box": list(e.box) if e.box else None,
                    }
                    for e in getattr(result.dxf, name)
                ]
                for name in ("added", "removed", "changed")
            },
        }
    return answer
