"""Alert sweep over many versions, against a bare SELECT count(*) of the same table.

    .venv/bin/python bench/sweep.py [--sizes 10000,100000] [--database-url URL]

Builds a portal with N current versions in mixed review states (80 % finished,
20 % open, received over the last 10 days) and times:
  - the floor: SELECT count(*) FROM document_version (same run, same database);
  - the first sweep, which creates the alerts and notifications (once);
  - a steady-state sweep (every 15 minutes in production): nothing new to create.
Target: the steady-state sweep under 2 s at 100k, growing linearly.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402

STATES = ["validated"] * 5 + ["changes_requested"] * 3 + ["received", "read"]


def build(url: str, size: int, data_dir: Path):  # type: ignore[no-untyped-def]
    from app import create_app
    from app.cli import upgrade_database
    from app.extensions import db
    from app.models import Client, Document, DocumentVersion, Space, SpaceMember, User
    from app.models.base import new_id

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": str(data_dir), "SECRET_KEY": "bench"}
    )
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(app)
    app.extensions["portal_job_runner"] = lambda name, *args: (
        None
    )  # no mail delivery in the benchmark
    rng = random.Random(7)
    now = datetime.now(UTC)
    with app.app_context():
        client_id, staff_id = new_id(), new_id()
        db.session.execute(
            insert(Client),
            [{"id": client_id, "name": "Bench S.A.", "kind": "company", "created_at": now}],
        )
        db.session.execute(
            insert(User),
            [
                {
                    "id": staff_id,
                    "email": "staff@bench",
                    "name": "Staff",
                    "role": "staff",
                    "locale": "es",
                    "active": True,
                    "recovery_codes": [],
                    "created_at": now,
                    "notify_email": "off",
                }
            ],
        )
        spaces = [new_id() for _ in range(100)]
        db.session.execute(
            insert(Space),
            [
                {
                    "id": s,
                    "client_id": client_id,
                    "name": f"Proyecto {i}",
                    "kind": "project",
                    "review_sla": {},
                    "label_scheme": "default",
                    "created_at": now,
                }
                for i, s in enumerate(spaces)
            ],
        )
        db.session.execute(
            insert(SpaceMember),
            [
                {
                    "id": new_id(),
                    "space_id": s,
                    "user_id": staff_id,
                    "permission": "manage",
                    "created_at": now,
                }
                for s in spaces
            ],
        )
        batch_docs, batch_versions = [], []
        for n in range(size):
            doc_id = new_id()
            created = now - timedelta(days=rng.uniform(0, 10))
            batch_docs.append(
                {
                    "id": doc_id,
                    "space_id": spaces[n % 100],
                    "title": f"Plano {n}",
                    "visibility": "internal",
                    "current_version_number": 1,
                    "created_by_id": staff_id,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            state = rng.choice(STATES)
            batch_versions.append(
                {
                    "id": new_id(),
                    "document_id": doc_id,
                    "number": 1,
                    "blob_key": "x",
                    "sha256": "0" * 64,
                    "size": 1,
                    "filename": "p.pdf",
                    "content_type": "application/pdf",
                    "uploaded_by_id": staff_id,
                    "source": "upload",
                    "review_state": state,
                    "review_state_at": created,
                    "created_at": created,
                }
            )
            if len(batch_docs) == 5000:
                db.session.execute(insert(Document), batch_docs)
                db.session.execute(insert(DocumentVersion), batch_versions)
                batch_docs, batch_versions = [], []
        if batch_docs:
            db.session.execute(insert(Document), batch_docs)
            db.session.execute(insert(DocumentVersion), batch_versions)
        db.session.commit()
    return app


def measure(url: str, size: int) -> None:
    from app.extensions import db
    from app.services import alerts

    with tempfile.TemporaryDirectory() as tmp:
        if url == "sqlite":
            url_for_size = f"sqlite:///{tmp}/bench.sqlite"
        else:
            url_for_size = url
        app = build(url_for_size, size, Path(tmp))
        with app.app_context():
            if url_for_size.startswith("postgresql"):
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            start = time.perf_counter()
            count = db.session.execute(text("SELECT count(*) FROM document_version")).scalar_one()
            floor = time.perf_counter() - start
            start = time.perf_counter()
            created = alerts.sweep()
            db.session.commit()
            first = time.perf_counter() - start
            if url_for_size.startswith("postgresql"):
                # production tables have planner statistics (autovacuum); a fresh bulk load does not
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            start = time.perf_counter()
            again = alerts.sweep()
            db.session.commit()
            steady = time.perf_counter() - start
        kind = "postgresql" if url_for_size.startswith("postgresql") else "sqlite"
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{kind:10} {count:>7} versions | count(*) {floor * 1000:7.1f} ms | first sweep {first:6.2f} s "
            f"({created} alerts) | steady sweep {steady:5.2f} s = {steady / floor:6.1f}x count(*) "
            f"({again} new) | peak RSS {peak:.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--database-url", default=os.environ.get("PORTAL_TEST_DATABASE_URL"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    targets = ["sqlite"] + ([args.database_url] if args.database_url else [])
    for target in targets:
        for size in sizes:
            measure(target, size)


if __name__ == "__main__":
    main()
