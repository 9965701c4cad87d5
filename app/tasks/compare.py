"""Compare jobs: what changed between two versions, computed once and kept."""

from __future__ import annotations

from app.extensions import celery, db
from app.services import compare


@celery.task(name="portal.compare_versions")
def compare_versions(version_id: str, from_number: int) -> str | None:
    """Compare a version with an older one; a redelivery finds the row finished, or retries."""
    row = compare.claim(version_id, int(from_number))
    db.session.commit()  # the attempt counts even if this worker dies while comparing
    if row is not None:
        compare.run(row)
        db.session.commit()
    found = compare.compare_row(version_id, int(from_number))
    return found.status if found is not None else None
