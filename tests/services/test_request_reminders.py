"""Reminder cadence with frozen time: which e-mails go out on which day, none twice, none after completion."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import select

DUE = date(2026, 6, 30)


def _mails_to(address: str):
    from app.extensions import db
    from app.models import OutboxMail

    return [
        m
        for m in db.session.execute(select(OutboxMail).order_by(OutboxMail.created_at)).scalars()
        if address in m.to
    ]


def _run_days(start: date, end: date) -> dict[date, int]:
    from app.extensions import db
    from app.services import requests

    sent = {}
    day = start
    while day <= end:
        with time_machine.travel(datetime(day.year, day.month, day.day, 8, tzinfo=UTC), tick=False):
            count = requests.send_reminders(day)
            count += requests.send_reminders(day)  # a second run the same day sends nothing
            db.session.commit()
        if count:
            sent[day] = count
        day += timedelta(days=1)
    return sent


def test_default_cadence_then_stop_on_completion(app, world):
    from app.extensions import db
    from app.services import requests

    with time_machine.travel(datetime(2026, 6, 1, 9, tzinfo=UTC), tick=False):
        request = requests.create_request(
            world.staff,
            world.space_a.id,
            title="Renta 2025",
            due_date=DUE,
            template="renta",
            today=date(2026, 6, 1),
        )
        db.session.commit()
    sent = _run_days(date(2026, 6, 1), date(2026, 7, 9))
    assert sorted(sent) == [
        date(2026, 6, 23),
        date(2026, 6, 29),
        DUE,
        date(2026, 7, 3),
        date(2026, 7, 6),
        date(2026, 7, 9),
    ]
    assert all(count == 1 for count in sent.values())  # one digest per client person per day
    reminders = [m for m in _mails_to(world.client_a.email) if "pendientes" in m.subject]
    assert len(reminders) == 6
    assert "DNI o NIE de los declarantes" in reminders[0].body_text
    assert (
        "Aportaciones a planes de pensiones" not in reminders[0].body_text
    )  # optional items are not chased

    # every required item arrives or does not apply: reminders stop at once
    for item in request.items:
        if item.required:
            requests.mark_not_applicable(world.client_a, item.id, "No aplica")
    db.session.commit()
    assert _run_days(date(2026, 7, 10), date(2026, 7, 20)) == {}


def test_an_item_that_arrives_leaves_the_reminder(app, world):
    from app.extensions import db
    from app.services import requests

    request = requests.create_request(
        world.staff,
        world.space_a.id,
        title="Alta",
        due_date=DUE,
        items=[{"title": "DNI"}, {"title": "Escrituras"}],
        reminders={"days_before": [1], "on_due_date": False, "overdue_every_days": 30},
        today=date(2026, 6, 1),
    )
    db.session.commit()
    requests.upload_to_item(
        world.client_a, request.items[0].id, io.BytesIO(b"dni"), filename="dni.pdf"
    )
    db.session.commit()
    assert _run_days(date(2026, 6, 28), date(2026, 6, 30)) == {date(2026, 6, 29): 1}
    body = [m for m in _mails_to(world.client_a.email) if "pendientes" in m.subject][-1].body_text
    assert "Escrituras" in body and "DNI\n" not in body


def test_one_digest_per_person_across_spaces(app, world):
    from app.extensions import db
    from app.services import clients, requests

    second_space = clients.create_space(
        world.admin, world.firm_a.id, name="Sociedades 2025", kind="fiscal_year"
    )
    clients.add_member(
        world.admin, second_space.id, user_id=world.client_a.id, permission="contribute"
    )
    clients.add_member(world.admin, second_space.id, user_id=world.staff.id, permission="manage")
    for space, title in ((world.space_a, "Renta"), (second_space, "Sociedades")):
        requests.create_request(
            world.staff,
            space.id,
            title=title,
            due_date=DUE,
            items=[{"title": f"Doc {title}"}],
            today=date(2026, 6, 1),
        )
    db.session.commit()
    assert _run_days(DUE, DUE) == {DUE: 1}
    digest = [m for m in _mails_to(world.client_a.email) if "pendientes" in m.subject]
    assert (
        len(digest) == 1
        and "Doc Renta" in digest[0].body_text
        and "Doc Sociedades" in digest[0].body_text
    )


def test_overdue_requests_escalate_to_the_staff_owner(app, client, world):
    from portal_testing import api_token

    from app.extensions import db
    from app.services import alerts, requests

    requests.create_request(
        world.staff,
        world.space_a.id,
        title="KYC",
        due_date=DUE,
        items=[{"title": "DNI"}],
        today=date(2026, 6, 1),
    )
    db.session.commit()
    with time_machine.travel(datetime(2026, 7, 1, 9, tzinfo=UTC), tick=False):
        alerts.sweep()
        db.session.commit()
        customer = client.get(
            "/api/v1/alerts", headers=api_token(client, world.client_a)
        ).get_json()["items"]
        assert [(a["kind"], a["level"], a["due"]) for a in customer if a["summary"] == "KYC"] == [
            ("request", 1, "2026-06-30")
        ]
        owner = client.get("/api/v1/alerts", headers=api_token(client, world.staff)).get_json()[
            "items"
        ]
        assert [a for a in owner if a["kind"] == "request"] == []
    with time_machine.travel(datetime(2026, 7, 4, 9, tzinfo=UTC), tick=False):
        alerts.sweep()
        alerts.sweep()
        db.session.commit()
        owner = client.get("/api/v1/alerts", headers=api_token(client, world.staff)).get_json()[
            "items"
        ]
        assert [(a["kind"], a["level"]) for a in owner if a["kind"] == "request"] == [
            ("request", 2)
        ]


def test_yearly_requests_start_again(app, world):
    from app.extensions import db
    from app.services import requests

    first = requests.create_request(
        world.staff,
        world.space_a.id,
        title="Renta 2025",
        due_date=DUE,
        template="renta",
        today=date(2026, 6, 1),
    )
    db.session.commit()
    assert first.recurrence == "yearly"
    assert requests.create_recurring(date(2027, 5, 1)) == []
    created = requests.create_recurring(date(2027, 5, 20))
    assert [(r.title, r.due_date) for r in created] == [("Renta 2026", date(2027, 6, 30))]
    assert requests.create_recurring(date(2027, 5, 21)) == []


def test_a_yearly_request_due_in_the_last_representable_year_does_not_stop_the_others(app, world):
    from app.extensions import db
    from app.services import requests

    for title, due in (("Renta 9999", date(9999, 12, 31)), ("Renta 2025", DUE)):
        requests.create_request(
            world.staff,
            world.space_a.id,
            title=title,
            due_date=due,
            template="renta",
            today=date(2026, 6, 1),
        )
    db.session.commit()
    created = requests.create_recurring(date(2027, 5, 20))
    assert [(r.title, r.due_date) for r in created] == [("Renta 2026", date(2027, 6, 30))]


def test_the_daily_digest_names_only_what_is_missing_and_nothing_once_complete(app, world):
    from app.extensions import db
    from app.services import notifications, requests

    notifications.set_email_mode(world.client_a, "daily")
    made = {
        title: requests.create_request(
            world.staff,
            world.space_a.id,
            title=title,
            due_date=DUE,
            items=[{"title": f"{title} uno"}, {"title": f"{title} dos"}],
            today=date(2026, 6, 1),
        )
        for title in ("Renta", "Sociedades")
    }
    db.session.commit()
    for item in [made["Renta"].items[0], *made["Sociedades"].items]:
        requests.upload_to_item(world.client_a, item.id, io.BytesIO(b"x"), filename="x.pdf")
        requests.review_item(world.staff, item.id, "accept")
    db.session.commit()
    assert notifications.send_daily_digests() == 1
    db.session.commit()
    body = _mails_to(world.client_a.email)[-1].body_text
    assert "Renta dos" in body and "Renta uno" not in body and "Sociedades" not in body

    # the client sends the last one: the next digest has nothing to say about requests
    requests.upload_to_item(
        world.client_a, made["Renta"].items[1].id, io.BytesIO(b"x"), filename="x.pdf"
    )
    requests.review_item(world.staff, made["Renta"].items[1].id, "accept")
    requests.create_request(  # a new notification about a request the client then completes
        world.staff,
        world.space_a.id,
        title="IBI",
        due_date=DUE,
        items=[{"title": "Recibo"}],
        today=date(2026, 6, 1),
    )
    db.session.commit()
    ibi = db.session.query(type(made["Renta"])).filter_by(title="IBI").one()
    requests.upload_to_item(world.client_a, ibi.items[0].id, io.BytesIO(b"x"), filename="x.pdf")
    requests.review_item(world.staff, ibi.items[0].id, "accept")
    db.session.commit()
    before = len(_mails_to(world.client_a.email))
    assert notifications.send_daily_digests() == 0
    assert len(_mails_to(world.client_a.email)) == before
