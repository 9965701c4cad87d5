"""Preview jobs: draw one rendition of a version and keep it."""

from __future__ import annotations

from app.extensions import celery, db
from app.services import previews


@celery.task(name="portal.render_preview")
def render_preview(version_id: str, variant: str) -> str | None:
    """Draw one rendition; a redelivery finds the row finished, or retries a pending one."""
    row = previews.claim(version_id, variant)
    db.session.commit()  # the attempt counts even if this worker dies while drawing
    if row is not None:
        previews.render(row)
        status = row.status
        db.session.commit()
        return status
    found = previews.preview_for(version_id, variant)
    return found.status if found is not None else None
