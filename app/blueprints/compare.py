"""What changed between two versions, as a page: overlay, side by side, changed areas, words.

The same access as the document (404 for what the caller may not see). The page never
waits for the compare: while it is queued or running it says so and asks the API until
it is done (a compare that runs in the web process is done when the page is drawn).
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.models import PreviewStatus
from app.services import compare, previews
from app.services.access import get_document, require_staff
from app.services.errors import ValidationFailed
from app.unit_of_work import commit_now

bp = Blueprint("compare", __name__, url_prefix="/documents")
#: two files dropped by staff, compared and shown, never stored
files_bp = Blueprint("compare_files", __name__)


@bp.get("/<document_id>/compare")
@login_required
def page(document_id: str) -> tuple[str, int]:
    document = get_document(current_user, document_id)  # 404 first, before any number
    numbers = [v.number for v in sorted(document.versions, key=lambda v: v.number)]
    try:
        comparison = compare.request_compare(
            current_user, document_id, request.args.get("from"), request.args.get("to")
        )
    except ValidationFailed as error:
        message = " ".join(error.errors.values()) or _("No se pueden comparar esas versiones.")
        return render_template(
            "compare/page.html", document=document, numbers=numbers, problem=message
        ), 422
    commit_now()  # the job goes out with the commit (or runs here, where jobs run inline)
    if comparison.result is None:
        comparison = compare.request_compare(
            current_user, document_id, comparison.older.number, comparison.newer.number
        )
    return render_template(
        "compare/page.html",
        document=document,
        numbers=numbers,
        comparison=comparison,
        pages=_pages(comparison),
        pins=compare.carried_pins(comparison) if comparison.result is not None else [],
        api_url=url_for(
            "api.compare_versions",
            document_id=document.id,
            **{"from": comparison.older.number, "to": comparison.newer.number},
        ),
        drawing=_drawing(comparison),
        problem=None,
    ), 200


def _image(comparison: compare.Comparison, name: str | None) -> str | None:
    if not name:
        return None
    return url_for(
        "api.compare_image",
        document_id=comparison.document.id,
        **{"from": comparison.older.number, "to": comparison.newer.number, "name": name},
    )


def _pages(comparison: compare.Comparison) -> list[dict[str, Any]]:
    if comparison.result is None:
        return []
    pages = []
    for index, page in enumerate(comparison.result.pages):
        pages.append(
            {
                "index": index,
                "from_page": page.from_page,
                "to_page": page.to_page,
                "areas": [area.box for area in page.changed_areas],
                "words_added": [w.text for w in page.words_added],
                "words_removed": [w.text for w in page.words_removed],
                "added_boxes": [w.box for w in page.words_added],
                "words_omitted": page.words_omitted,
                "overlay": _image(comparison, page.images.get("overlay")),
                "before": _image(comparison, page.images.get("from")),
                "after": _image(comparison, page.images.get("to")),
                "size": page.image_size,
            }
        )
    return pages


def _drawing(comparison: compare.Comparison) -> dict[str, Any] | None:
    """The newer drawing's SVG preview for a DXF compare (its boxes are drawn over it), and
    whether it is still being drawn (the page then asks until it is)."""
    if comparison.result is None or comparison.result.dxf is None:
        return None
    row = previews.ensure(comparison.newer, previews.VIEW)
    url = url_for(
        "previews.rendition",
        document_id=comparison.document.id,
        number=comparison.newer.number,
        variant=previews.VIEW,
    )
    return {"url": url, "pending": row.status == PreviewStatus.pending}


class FilesForm(FlaskForm):
    before = FileField(_l("Archivo anterior"), validators=[FileRequired(_l("Elija un archivo."))])
    after = FileField(_l("Archivo nuevo"), validators=[FileRequired(_l("Elija un archivo."))])


@files_bp.route("/compare", methods=["GET", "POST"])
@login_required
def files() -> tuple[str, int]:
    require_staff(current_user)
    form = FilesForm()
    context: dict[str, Any] = {"form": form, "pages": [], "result": None}
    if not form.validate_on_submit():
        return render_template("compare/files.html", **context), 422 if form.errors else 200
    before, after = form.before.data, form.after.data
    try:
        found = compare.compare_files(
            current_user, (before.stream, before.filename), (after.stream, after.filename)
        )
    except ValidationFailed as error:
        for name, message in error.errors.items():
            getattr(form, name).errors = [message]
        return render_template("compare/files.html", **context), 422

    def inline(name: str | None) -> str | None:
        if not name or name not in found.images:
            return None
        return "data:image/jpeg;base64," + base64.b64encode(found.images[name]).decode("ascii")

    pages = []
    for index, page in enumerate(found.result.pages):
        pages.append(
            {
                "index": index,
                "from_page": page.from_page,
                "to_page": page.to_page,
                "areas": [area.box for area in page.changed_areas],
                "words_added": [w.text for w in page.words_added],
                "words_removed": [w.text for w in page.words_removed],
                "words_omitted": page.words_omitted,
                "overlay": inline(page.images.get("overlay")),
                "before": inline(page.images.get("from")),
                "after": inline(page.images.get("to")),
                "size": page.image_size,
            }
        )
    context.update(
        pages=pages,
        result=found.result,
        before_name=before.filename or _("anterior"),
        after_name=after.filename or _("nuevo"),
    )
    return render_template("compare/files.html", **context), 200
