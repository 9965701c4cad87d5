"""The embedded broker of `portal run`: a queue folder, read once per batch, and its worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kombu import Connection

from app.tasks import filesystem_broker

TRANSPORT = "app.tasks.filesystem_broker:Transport"
#: A web process's uploads: ``staff_id space_id name...``, each file read from ``<name>.pdf``.
UPLOADER = """
import io, os, sys
from pathlib import Path
from app import create_app
from app.extensions import db
from app.models import User
from app.services import documents
app = create_app({"OCR_ON_UPLOAD": True, "PREVIEWS_ON_UPLOAD": True})
folder = Path(os.environ["PORTAL_DATA_DIR"])
with app.app_context():
    staff = db.session.get(User, sys.argv[1])
    for name in sys.argv[3:]:
        data = (folder / f"{name}.pdf").read_bytes()
        documents.upload_document(
            staff, sys.argv[2], io.BytesIO(data), filename=f"{name}.pdf", title=name
        )
        db.session.commit()  # the jobs go to the queue folder after each commit
"""


def connection(folder: Path) -> Connection:
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return Connection(
        "filesystem://",
        transport=TRANSPORT,
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        },
    )


def test_messages_come_out_oldest_first_once_each_across_two_consumers(tmp_path):
    with connection(tmp_path) as first, connection(tmp_path) as second:
        jobs = first.SimpleQueue("jobs")
        others = first.SimpleQueue("jobs.other")  # a queue whose name ends like another's
        for number in range(6):
            jobs.put({"n": number})
            time.sleep(0.002)  # names carry the millisecond they were written
        others.put({"n": "other"})
        taken_by_second = second.SimpleQueue("jobs")
        got = []
        # each consumer lists the folder once; the second one takes messages that are in the
        # first one's listing, which the first then skips instead of reading twice
        for queue in (jobs, taken_by_second, taken_by_second, jobs, jobs, taken_by_second):
            message = queue.get(timeout=2)
            got.append(message.payload["n"])
            message.ack()
        assert got == [0, 1, 2, 3, 4, 5]
        with pytest.raises(jobs.Empty):
            jobs.get(timeout=0.2)
        # a message written after the listing is found by the next one
        jobs.put({"n": 6})
        assert jobs.get(timeout=2).payload == {"n": 6}
        assert others.get(timeout=2).payload == {"n": "other"}
        assert not list((tmp_path / "queue").iterdir())
        assert not list((tmp_path / "processed").iterdir())  # nothing kept once read
        jobs.close()
        others.close()
        taken_by_second.close()


def test_the_folder_is_listed_once_for_a_backlog_not_once_per_message(tmp_path, monkeypatch):
    listings = []
    real_listdir = os.listdir

    def counted(*args):  # type: ignore[no-untyped-def]
        listings.append(args)
        return real_listdir(*args)

    with connection(tmp_path) as conn:
        # a queue name of its own: kombu keeps the filesystem transport's declarations
        # in one state for the whole process, which would skip this folder's binding
        queue = conn.SimpleQueue("backlog")
        for number in range(50):
            queue.put({"n": number})
        monkeypatch.setattr(filesystem_broker.os, "listdir", counted)
        got = [queue.get(timeout=2).payload["n"] for _ in range(50)]
        queue.close()
    assert sorted(got) == list(range(50))
    assert len(listings) <= 2


def test_the_older_message_comes_first_when_the_stamps_differ_in_length(tmp_path):
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("stamps")
        queue.put({"n": "later"})
        (later,) = (tmp_path / "queue").iterdir()
        queue.put({"n": "earlier"})
        (earlier,) = set((tmp_path / "queue").iterdir()) - {later}
        later.rename(later.with_name("10_" + later.name.partition("_")[2]))
        earlier.rename(earlier.with_name("9_" + earlier.name.partition("_")[2]))
        got = [queue.get(timeout=2).payload["n"] for _ in range(2)]
        queue.close()
    assert got == ["earlier", "later"]


def test_a_backlog_from_before_a_restart_is_read_before_what_comes_after(tmp_path, monkeypatch):
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("restart")
        queue.put({"n": "before"})  # left in the folder when the machine went down
        time.sleep(0.002)
        # after the restart the monotonic clock starts again near 0
        monkeypatch.setattr(time, "monotonic", lambda: 5.0)
        queue.put({"n": "after"})
        monkeypatch.undo()
        got = [queue.get(timeout=2).payload["n"] for _ in range(2)]
        queue.close()
    assert got == ["before", "after"]


def test_an_empty_or_damaged_message_is_set_aside_and_the_next_one_is_read(tmp_path):
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("damaged")
        queue.put({"n": 0})  # declares the queue; read first
        assert queue.get(timeout=2).payload == {"n": 0}
        # what kombu's own producer leaves between creating a file and writing it, older
        # than the next message (numerically: "1_" sorts after "12_" as text)
        (tmp_path / "queue" / "1_00000000-0000-0000-0000-000000000000.damaged.msg").touch()
        time.sleep(0.002)
        queue.put({"n": 1})
        message = queue.get(timeout=5)  # the worker used to stop here: JSONDecodeError
        assert message.payload == {"n": 1}
        queue.close()
    assert [p.name.endswith(".msg.unreadable") for p in (tmp_path / "processed").iterdir()] == [
        True
    ]


def test_messages_are_written_whole_before_they_get_their_name(tmp_path, monkeypatch):
    seen_while_writing = []
    real_write = Path.write_bytes

    def watched(self, data):  # type: ignore[no-untyped-def]
        seen_while_writing.append(sorted(p.name for p in (tmp_path / "queue").iterdir()))
        return real_write(self, data)

    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("whole")
        monkeypatch.setattr(Path, "write_bytes", watched)
        queue.put({"n": 1})
        monkeypatch.undo()
        names = sorted(p.name for p in (tmp_path / "queue").iterdir())
        assert queue.get(timeout=2).payload == {"n": 1}
        queue.close()
    assert seen_while_writing == [[]]  # nothing a consumer could take while it was written
    assert len(names) == 1 and names[0].endswith(".whole.msg")


@pytest.mark.celery
@pytest.mark.timeout(300)
def test_the_embedded_worker_reads_and_draws_an_uploaded_archive(tmp_path, database_url):
    """`portal run`'s worker on the queue folder: every upload gets its text and thumbnail."""
    from fpdf import FPDF
    from portal_testing import build_world, make_app

    from app.extensions import db
    from app.models import Document, DocumentPreview, OcrResult
    from app.services import search

    web = make_app(tmp_path, database_url)
    names = ["Zuera", "Tauste", "Borja", "Caspe", "Ejea", "Alagón"]
    env = {
        **os.environ,
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "PORTAL_SECRET_KEY": "test-secret",
        "PORTAL_OUTBOX_DIR": str(tmp_path / "worker-outbox"),
    }
    env.pop("PORTAL_BROKER_URL", None)
    with web.app_context():
        world = build_world()
        # The uploads are made by a process of their own, as the web process of `portal run`
        # makes them: this test process's Celery keeps the broker folder of the first test
        # that sent a job from it, and kombu's declarations with it.
        for name in names:
            pdf = FPDF(format="A4")
            pdf.add_page()
            pdf.set_font("Helvetica", size=14)
            pdf.multi_cell(0, 8, f"Acta de replanteo de la obra de {name}")
            (tmp_path / f"{name}.pdf").write_bytes(bytes(pdf.output()))
        subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", UPLOADER, world.staff.id, world.space_a.id, *names],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            check=True,
            timeout=120,
        )
        documents_by_name = {
            d.title: d.id for d in db.session.query(Document).filter(Document.title.in_(names))
        }
        assert sorted(documents_by_name) == sorted(names)
        # nothing read or drawn yet: the jobs wait in the queue folder
        assert {r.status for r in db.session.query(OcrResult)} == {"queued"}
        assert {p.status for p in db.session.query(DocumentPreview)} == {"pending"}
        # one job per upload: its thumbnail and its text together (and the mail about it)
        queued = [
            json.loads(message.read_text())["headers"]["task"]
            for message in (tmp_path / "broker" / "queue").iterdir()
        ]
        assert sorted(set(queued)) == ["portal.deliver_mail", "portal.process_version"]
        assert queued.count("portal.process_version") == len(names)
        worker = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "app.cli", "worker", "--embedded"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                db.session.expire_all()
                texts = db.session.query(OcrResult).filter(OcrResult.status == "done").count()
                thumbs = (
                    db.session.query(DocumentPreview)
                    .filter(
                        DocumentPreview.variant == "thumbnail", DocumentPreview.status == "ready"
                    )
                    .count()
                )
                if texts == thumbs == len(names):
                    break
                time.sleep(0.3)
            assert (texts, thumbs) == (len(names), len(names))
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        hits = search.search_documents(world.staff, "replanteo Caspe")
        assert [hit.document.id for hit in hits] == [documents_by_name["Caspe"]]
        assert "Caspe" in hits[0].snippet  # found in the text the worker read
        assert not list((tmp_path / "broker" / "queue").iterdir())
