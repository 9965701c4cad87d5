"""The metrics page (admin): requests on time, days to complete, portal use, signatures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from portal_testing import web_login


def _last_month(day: int) -> date:
    first = date.today().replace(day=1)
    return (first - timedelta(days=1)).replace(day=day)


def test_monthly_metrics_as_charts_a_table_and_csv(client, web_app, world):
    from app.extensions import db
    from app.models import SignatureRequest
    from app.services import requests

    due = _last_month(20)
    made = [
        requests.create_request(
            world.staff,
            world.space_a.id,
            title=title,
            due_date=due,
            items=[{"title": "DNI"}],
            today=due - timedelta(days=10),
        )
        for title in ("A tiempo", "Tarde")
    ]
    for request, done_day in zip(
        made, (due - timedelta(days=2), due + timedelta(days=5)), strict=True
    ):
        request.created_at = datetime.combine(due - timedelta(days=10), datetime.min.time(), UTC)
        request.completed_at = datetime.combine(done_day, datetime.min.time(), UTC)
    signed_at = datetime.combine(_last_month(10), datetime.min.time(), UTC)
    db.session.add(
        SignatureRequest(
            document_id=world.shared.id,
            version_number=1,
            current_version_number=1,
            level="B-T",
            status="completed",
            created_by_id=world.staff.id,
            created_at=signed_at - timedelta(days=3),
            completed_at=signed_at,
        )
    )
    db.session.commit()

    customer = web_app.test_client()
    web_login(customer, world.client_a)  # a client uses the portal this month
    assert customer.get("/admin/metrics").status_code == 403
    web_login(client, world.admin)
    page = client.get("/admin/metrics").get_data(as_text=True)
    assert page.count("<svg") == 5 and 'data-testid="metrics"' in page

    rows = list(
        csv.reader(io.StringIO(client.get("/admin/metrics.csv").get_data().decode("utf-8-sig")))
    )
    assert len(rows) == 13 and rows[0][0] == "Mes"
    last_month, this_month = rows[-2], rows[-1]
    assert last_month[0] == due.strftime("%Y-%m")
    assert last_month[1:5] == ["2", "50.0", "2", "11.5"]  # due, on time %, completed, median days
    assert last_month[8:10] == ["1", "3.0"]  # one signature, 3 days
    assert int(this_month[6]) >= 1 and this_month[7]  # Petrolera's person logged in
