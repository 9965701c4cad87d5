"""A request's counts of its items (what a campaign board shows) and its completion stay true
when two of its items move at the same moment, in two transactions (a client sending several
files at once): the second is counted after the first, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlalchemy import event


def test_two_items_set_aside_at_once_are_both_counted_and_the_request_completes(app, world):
    from app.extensions import db
    from app.models import DocumentRequest, User
    from app.services import requests

    request = requests.create_request(
        world.staff,
        world.space_a.id,
        title="Cuentas anuales",
        due_date=date.today() + timedelta(days=20),
        items=[{"title": "Balance"}, {"title": "Memoria"}],
        today=date.today(),
    )
    db.session.commit()
    request_id, staff_id = request.id, world.staff.id
    first_id, second_id = (item.id for item in request.items)
    db.session.remove()

    first_written = threading.Event()
    let_first_commit = threading.Event()
    failures: list[BaseException] = []

    def set_aside(item_id: str, hold: bool) -> None:
        try:
            with app.app_context():
                session = db.session()
                if hold:  # the first waits, written but not committed, for the second to start

                    @event.listens_for(session, "before_commit")
                    def wait(_session):  # type: ignore[no-untyped-def]
                        first_written.set()
                        assert let_first_commit.wait(20)

                staff = db.session.get(User, staff_id)
                requests.mark_not_applicable(staff, item_id, "No aplica este año")
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
            first_written.set()

    first = threading.Thread(target=set_aside, args=(first_id, True))
    second = threading.Thread(target=set_aside, args=(second_id, False))
    first.start()
    assert first_written.wait(20)
    second.start()  # reads the request while the first has not committed
    second.join(0.5)
    let_first_commit.set()
    first.join(20)
    second.join(20)
    assert not failures, failures

    found = db.session.get(DocumentRequest, request_id)
    db.session.refresh(found)
    assert (found.items_total, found.items_pending, found.items_not_applicable) == (2, 0, 2)
    assert found.items_missing == 0 and found.completed_at is not None
