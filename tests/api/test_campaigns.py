"""Campaigns over the API: one request per client, made once, a board, reminders, exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from portal_testing import PASSWORD, api_token


def _clients(client, admin, count: int, tag: str) -> list[str]:
    ids = []
    for number in range(count):
        made = client.post(
            "/api/v1/clients",
            headers=admin,
            json={"name": f"Cliente {number:02d}", "kind": "person"},
        ).get_json()
        assert (
            client.post(
                f"/api/v1/clients/{made['id']}/tags", headers=admin, json={"tags": [tag, "2026"]}
            ).status_code
            == 200
        )
        ids.append(made["id"])
    return ids


def _campaign(client, headers, **overrides):
    body = {
        "name": "Renta 2026",
        "kind": "request",
        "template": "renta",
        "due_date": (date.today() + timedelta(days=30)).isoformat(),
        "client_filter": {"tag": "renta"},
        "space_kind": "fiscal_year",
        "space_name": "Renta {year}",
        **overrides,
    }
    return client.post("/api/v1/campaigns", headers=headers, json=body)


def _a_person_in_a_campaign(client, world, *, email: str, name: str, items: list[dict]):
    """Two clients tagged "renta", a person of the first, a campaign asking for ``items``, and
    the person made a member of the space it opened for them. Returns the admin's headers,
    the first client's id, the campaign, that client's request and the person's headers."""
    from app.extensions import db
    from app.models import DocumentRequest, User
    from app.services import accounts
    from app.services import clients as client_service

    admin = api_token(client, world.admin)
    first = _clients(client, admin, 2, "renta")[0]
    person = accounts.create_user(
        world.admin, email=email, name=name, role="client", client_id=first, password=PASSWORD
    )
    db.session.commit()
    campaign = _campaign(client, admin, template=None, items=items).get_json()
    board = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=admin).get_json()
    row = next(r for r in board["clients"] if r["client_id"] == first)
    request = db.session.get(DocumentRequest, row["request_id"])
    client_service.add_member(
        world.admin, request.space_id, user_id=person.id, permission="contribute"
    )
    db.session.commit()
    return admin, first, campaign, request, api_token(client, db.session.get(User, person.id))


def _send(client, headers, item_id: str, filename: str) -> None:
    sent = client.post(
        f"/api/v1/request-items/{item_id}/upload",
        headers=headers,
        data={"file": (io.BytesIO(b"%PDF-1.4 " + filename.encode()), filename)},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.get_json()


def test_a_renta_campaign_for_tagged_clients_makes_one_request_each_and_never_twice(client, world):
    admin = api_token(client, world.admin)
    tagged = _clients(client, admin, 5, "renta")
    _clients(client, admin, 2, "sociedad")
    filtered = client.get("/api/v1/clients?tag=renta", headers=admin).get_json()["items"]
    assert sorted(c["id"] for c in filtered) == sorted(tagged)

    created = _campaign(client, admin)
    assert created.status_code == 202, created.get_json()
    campaign = client.get(f"/api/v1/campaigns/{created.get_json()['id']}", headers=admin).get_json()
    assert campaign["status"] == "done"
    assert campaign["totals"] == {"clients": 5, "done": 0, "pending": 5, "overdue": 0, "failed": 0}
    assert sorted(row["client_id"] for row in campaign["clients"]) == sorted(tagged)
    assert all(row["request_id"] and row["progress"]["total"] >= 5 for row in campaign["clients"])

    # the job delivered again changes nothing; a space that already existed is reused
    from app.extensions import celery
    from app.extensions import db as database
    from app.models import DocumentRequest, Space

    celery.tasks["portal.run_campaign"].apply(args=[campaign["id"]])
    database.session.expire_all()
    spaces = database.session.query(Space).filter(Space.client_id.in_(tagged)).all()
    due_year = (date.today() + timedelta(days=30)).year
    assert len(spaces) == 5 and {s.name for s in spaces} == {f"Renta {due_year}"}
    requests = (
        database.session.query(DocumentRequest)
        .filter(DocumentRequest.space_id.in_([s.id for s in spaces]))
        .all()
    )
    assert len(requests) == 5


def test_reminders_list_only_what_each_client_lacks_and_exports_open_in_a_spreadsheet(
    client, world
):
    from openpyxl import load_workbook
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail

    admin, _first, campaign, request, token = _a_person_in_a_campaign(
        client,
        world,
        email="lucia@example.com",
        name="Lucía",
        items=[{"title": "Certificado de retenciones"}, {"title": "Recibo del IBI"}],
    )
    # Lucía (a member of her renta space) sends one of the two documents
    ibi = next(i for i in request.items if i.title == "Recibo del IBI")
    _send(client, token, ibi.id, "ibi.pdf")

    reminded = client.post(f"/api/v1/campaigns/{campaign['id']}/remind", headers=admin)
    assert reminded.status_code == 200 and reminded.get_json()["reminded"] == 1
    db.session.expire_all()
    # mail.to is JSON: filtered here, as LIKE on JSON is not portable (PostgreSQL refuses it)
    mails = db.session.execute(select(OutboxMail).order_by(OutboxMail.created_at)).scalars()
    mail = [m for m in mails if "lucia@example.com" in m.to][-1]
    assert "Certificado de retenciones" in mail.body_text and "Recibo del IBI" not in mail.body_text
    # staff asking again the same day remind again: each time they ask, one e-mail each
    again = client.post(f"/api/v1/campaigns/{campaign['id']}/remind", headers=admin)
    assert again.get_json()["reminded"] == 1
    db.session.expire_all()
    mails = db.session.execute(select(OutboxMail)).scalars()
    assert len([m for m in mails if "lucia@example.com" in m.to and m.subject == mail.subject]) == 2

    exported = client.get(f"/api/v1/campaigns/{campaign['id']}/export?format=csv", headers=admin)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig"))))
    assert len(rows) == 3 and rows[0][:3] == ["Cliente", "NIF", "Estado"]  # two namesakes apart
    book = client.get(f"/api/v1/campaigns/{campaign['id']}/export?format=xlsx", headers=admin)
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.get_data())).active
    assert sheet.max_row == 3
    assert (
        client.get(
            f"/api/v1/campaigns/{campaign['id']}/export?format=pdf", headers=admin
        ).status_code
        == 422
    )


def test_bad_campaigns_are_refused_and_clients_cannot_see_campaigns(client, world):
    admin = api_token(client, world.admin)
    customer = api_token(client, world.client_a)
    assert _campaign(client, customer).status_code == 403
    bad = _campaign(
        client,
        admin,
        client_filter=None,
        clients=["no-existe", world.firm_a.id],
        due_date="2001-01-01",
        space_kind="otro",
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) >= {"clients", "due_date", "space_kind"}
    assert _campaign(client, admin, client_filter={"tag": "nadie"}).status_code == 422
    made = _campaign(client, admin, client_filter=None, clients=[world.firm_a.id]).get_json()
    assert client.get(f"/api/v1/campaigns/{made['id']}", headers=customer).status_code == 404
    assert (
        client.post(
            f"/api/v1/clients/{world.firm_a.id}/tags", headers=admin, json={"tags": ["Con Espacio"]}
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/clients/{world.firm_b.id}/tags", headers=customer, json={"tags": ["x"]}
        ).status_code
        == 404
    )


def test_the_board_counts_follow_each_item_as_it_is_sent_refused_accepted_or_set_aside(
    client, world
):
    """The counts a board shows are kept on each request as its items move: a client's row
    says what was sent, accepted or marked not applicable after each step, and the client
    is complete exactly when every required item is settled."""
    admin, first_client, campaign, request, token = _a_person_in_a_campaign(
        client,
        world,
        email="marta@example.com",
        name="Marta",
        items=[
            {"title": "Certificado de retenciones"},
            {"title": "Recibo del IBI"},
            {"title": "Donativos", "required": False},
        ],
    )

    def row() -> dict:
        board = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=admin).get_json()
        return next(r for r in board["clients"] if r["client_id"] == first_client)

    first = row()
    assert first["progress"] == {
        "pending": 3,
        "submitted": 0,
        "accepted": 0,
        "not_applicable": 0,
        "total": 3,
    }
    assert first["status"] == "open"
    items = {i.title: i.id for i in request.items}

    def send(title: str) -> None:
        _send(client, token, items[title], "doc.pdf")

    def review(title: str, action: str) -> None:
        answer = client.post(
            f"/api/v1/request-items/{items[title]}/review",
            headers=admin,
            json={"action": action, "comment": "Ilegible" if action == "reject" else None},
        )
        assert answer.status_code == 200, answer.get_json()

    send("Certificado de retenciones")
    send("Recibo del IBI")
    assert row()["progress"]["submitted"] == 2 and row()["progress"]["pending"] == 1
    review("Recibo del IBI", "reject")  # back to pending: the client must send it again
    assert row()["progress"] == {
        "pending": 2,
        "submitted": 1,
        "accepted": 0,
        "not_applicable": 0,
        "total": 3,
    }
    assert row()["missing"] == ["Recibo del IBI"]
    review("Certificado de retenciones", "accept")
    set_aside = client.post(
        f"/api/v1/request-items/{items['Recibo del IBI']}/not-applicable",
        headers=admin,
        json={"reason": "No tiene inmuebles"},
    )
    assert set_aside.status_code == 200, set_aside.get_json()
    done = row()
    # the optional item still waits, but nothing required does: the client is complete
    assert done["progress"] == {
        "pending": 1,
        "submitted": 0,
        "accepted": 1,
        "not_applicable": 1,
        "total": 3,
    }
    assert done["status"] == "done" and done["missing"] == []
    board = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=admin).get_json()
    assert board["totals"] == {"clients": 2, "done": 1, "pending": 1, "overdue": 0, "failed": 0}


def test_a_campaign_with_a_field_of_the_wrong_type_is_refused_naming_that_field(client, world):
    admin = api_token(client, world.admin)
    _clients(client, admin, 1, "renta")
    for field, value in (
        ("client_filter", {"tag": ["vip"]}),
        ("client_filter", {"tag": 123}),
        ("client_filter", {"kind": ["person"]}),
        ("client_filter", {"kind": {"a": 1}}),
        ("space_kind", []),
        ("space_kind", {}),
        ("space_kind", ["fiscal_year"]),
        ("kind", ["request"]),
        ("kind", {"a": 1}),
        ("name", ["Renta"]),
        ("space_name", {"a": 1}),
        ("due_date", ["2030-01-01"]),
        ("template", ["renta"]),
        ("clients", {"a": 1}),
        ("tax_ids", {"a": 1}),
    ):
        overrides = {field: value}
        if field in ("clients", "tax_ids"):
            overrides["client_filter"] = None
        answer = _campaign(client, admin, **overrides)
        assert answer.status_code == 422, (field, value, answer.get_data(as_text=True)[:300])
        assert answer.mimetype == "application/problem+json"
        assert field in answer.get_json()["errors"], (field, value, answer.get_json())


def test_a_client_filter_without_a_usable_tag_or_kind_is_refused_instead_of_taking_every_client(
    client, world
):
    from app.extensions import db
    from app.models import Campaign

    admin = api_token(client, world.admin)
    tagged = _clients(client, admin, 2, "renta")
    before = db.session.query(Campaign).count()
    for client_filter in (
        {},
        {"tags": "vip"},
        {"color": "red"},
        {"tag": "renta", "color": "red"},
        {"tag": None},
        {"tag": ""},
        {"tag": "  "},
        {"kind": None},
        {"kind": ""},
        "vip",
        ["renta"],
    ):
        answer = _campaign(client, admin, client_filter=client_filter)
        assert answer.status_code == 422, (client_filter, answer.get_json())
        errors = answer.get_json()["errors"]
        assert set(errors) == {"client_filter"}, (client_filter, errors)
    unknown = _campaign(client, admin, client_filter={"tags": "vip"}).get_json()["errors"]
    assert "tags" in unknown["client_filter"] and "tag" in unknown["client_filter"]
    assert "kind" in unknown["client_filter"]

    # two ways of choosing the clients at once: the caller is told to choose one
    for extra in ({"clients": tagged}, {"tax_ids": ["B12345674"]}):
        both = _campaign(client, admin, **extra)
        assert both.status_code == 422, both.get_json()
        assert {"client_filter", *extra} <= set(both.get_json()["errors"])
    assert db.session.query(Campaign).count() == before

    # a filter, a list of tax ids or of clients that chooses nobody: the field sent is named
    for chosen_by, value in (
        ("client_filter", {"tag": "nadie"}),
        ("client_filter", {"tag": "renta", "kind": "company"}),
        ("tax_ids", []),
        ("tax_ids", ["", "  "]),
        ("clients", []),
    ):
        nobody = _campaign(client, admin, **{"client_filter": None, chosen_by: value})
        assert nobody.status_code == 422, (chosen_by, value, nobody.get_json())
        assert set(nobody.get_json()["errors"]) == {chosen_by}, (chosen_by, value)
    assert db.session.query(Campaign).count() == before

    # a usable filter still works, by tag, by kind or both
    made = _campaign(client, admin, client_filter={"tag": " Renta ", "kind": "person"})
    assert made.status_code == 202, made.get_json()
    assert sorted(r["client_id"] for r in made.get_json()["clients"]) == sorted(tagged)


def test_a_campaign_whose_items_a_request_would_refuse_is_refused_at_once_and_nothing_is_stored(
    client, world
):
    from app.extensions import db
    from app.models import Campaign, CampaignClient

    admin = api_token(client, world.admin)
    _clients(client, admin, 2, "renta")
    for items in (
        [{"description": "x"}],
        [1],
        [{"title": 1}],
        [{"title": ""}],
        [{"title": "x" * 301}],
        [{"title": "Modelo 100"}, {"title": "Nómina", "description": ["x"]}],
        "Modelo 100",
    ):
        answer = _campaign(client, admin, template=None, items=items)
        assert answer.status_code == 422, (items, answer.get_json())
        assert "items" in answer.get_json()["errors"], (items, answer.get_json())
    missing = _campaign(client, admin, template="no-existe")
    assert missing.status_code == 422 and "template" in missing.get_json()["errors"]
    assert db.session.query(Campaign).count() == 0
    assert db.session.query(CampaignClient).count() == 0

    made = _campaign(client, admin, template=None, items=[{"title": " Modelo 100 "}]).get_json()
    campaign = client.get(f"/api/v1/campaigns/{made['id']}", headers=admin).get_json()
    assert campaign["status"] == "done" and {r["status"] for r in campaign["clients"]} == {"open"}


def test_a_client_is_told_a_campaign_does_not_exist_and_may_not_start_or_list_them(client, world):
    """A campaign is the firm's internal work: to a client each one is not found (404), as an
    unknown id is; starting one or listing them, which a client may know exist, is forbidden."""
    admin = api_token(client, world.admin)
    customer = api_token(client, world.client_a)
    made = _campaign(client, admin, client_filter=None, clients=[world.firm_a.id]).get_json()
    base = f"/api/v1/campaigns/{made['id']}"
    for method, path, body in (
        ("get", base, None),
        ("get", f"{base}/export?format=csv", None),
        ("post", f"{base}/remind", {}),
        ("post", f"{base}/close", {}),
        ("post", f"{base}/remove", {"client_ids": [world.firm_a.id]}),
    ):
        answer = getattr(client, method)(path, headers=customer, json=body)
        unknown = getattr(client, method)(
            path.replace(made["id"], "no-existe"), headers=customer, json=body
        )
        assert answer.status_code == unknown.status_code == 404, (path, answer.get_json())
        assert answer.mimetype == "application/problem+json"
    assert _campaign(client, customer).status_code == 403
    assert client.get("/api/v1/campaigns", headers=customer).status_code in (403, 405)
    board = client.get(base, headers=admin).get_json()
    assert {r["status"] for r in board["clients"]} != {"closed"}  # the client changed nothing


def test_a_client_opening_a_campaign_page_finds_nothing(client, world):
    from portal_testing import csrf_token, web_login

    admin = api_token(client, world.admin)
    made = _campaign(client, admin, client_filter=None, clients=[world.firm_a.id]).get_json()
    web_login(client, world.client_a)
    for path in (f"/campaigns/{made['id']}", f"/campaigns/{made['id']}/export?format=csv"):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/")
    for action in ("remind", "close", "remove"):
        answer = client.post(
            f"/campaigns/{made['id']}/{action}",
            data={"csrf_token": token, "client_ids": world.firm_a.id},
        )
        assert answer.status_code == 404, action
