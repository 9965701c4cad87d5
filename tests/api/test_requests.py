"""Document requests: checklists, uploads against items, review, reminders until complete."""

from __future__ import annotations

import io
from datetime import date, timedelta

from portal_testing import api_token, make_user

TODAY = date.today()


def _create(client, headers, space_id, **body):
    payload = {"title": "IRPF 2025", "due_date": (TODAY + timedelta(days=20)).isoformat(), **body}
    return client.post(f"/api/v1/spaces/{space_id}/requests", headers=headers, json=payload)


def test_renta_checklist_round_trip(client, world):
    staff, customer = api_token(client, world.staff), api_token(client, world.client_a)
    created = _create(client, staff, world.space_a.id, template="renta")
    assert created.status_code == 201
    request = created.get_json()
    assert request["items"][0]["title"].startswith("DNI")
    assert {i["status"] for i in request["items"]} == {"pending"}
    required = [i for i in request["items"] if i["required"]]
    optional = [i for i in request["items"] if not i["required"]]
    assert request["progress"] == {"done": 0, "total": len(required), "percent": 0}

    seen = client.get(f"/api/v1/spaces/{world.space_a.id}/requests", headers=customer).get_json()[
        "items"
    ]
    assert "IRPF 2025" in [r["title"] for r in seen]

    first, second = required[0], required[1]
    nothing = client.post(
        f"/api/v1/request-items/{first['id']}/upload",
        headers=customer,
        data={"file": (io.BytesIO(b""), "dni.pdf")},
    )
    assert nothing.status_code == 422 and "file" in nothing.get_json()["errors"]
    uploaded = client.post(
        f"/api/v1/request-items/{first['id']}/upload",
        headers=customer,
        data={"file": (io.BytesIO(b"%PDF dni"), "dni.pdf")},
    )
    assert uploaded.status_code == 201 and uploaded.get_json()["status"] == "submitted"
    document_id = uploaded.get_json()["documents"][0]
    document = client.get(f"/api/v1/documents/{document_id}", headers=staff).get_json()
    assert (
        document["space_id"] == world.space_a.id
        and document["current_version"]["review_state"] == "received"
    )
    # several files per item
    more = client.post(
        f"/api/v1/request-items/{first['id']}/upload",
        headers=customer,
        data={"file": (io.BytesIO(b"%PDF dorso"), "dorso.pdf")},
    )
    assert len(more.get_json()["documents"]) == 2

    no_reason = client.post(
        f"/api/v1/request-items/{second['id']}/not-applicable", headers=customer, json={}
    )
    assert no_reason.status_code == 422
    na = client.post(
        f"/api/v1/request-items/{second['id']}/not-applicable",
        headers=customer,
        json={"reason": "No tengo datos fiscales"},
    )
    assert na.get_json()["status"] == "not_applicable"

    # staff review: reject needs a comment and sends the item back
    reject = client.post(
        f"/api/v1/request-items/{first['id']}/review", headers=staff, json={"action": "reject"}
    )
    assert reject.status_code == 422
    rejected = client.post(
        f"/api/v1/request-items/{first['id']}/review",
        headers=staff,
        json={"action": "reject", "comment": "Está caducado"},
    )
    assert (
        rejected.get_json()["status"] == "pending"
        and rejected.get_json()["review_comment"] == "Está caducado"
    )
    client.post(
        f"/api/v1/request-items/{first['id']}/upload",
        headers=customer,
        data={"file": (io.BytesIO(b"%PDF"), "dni2.pdf")},
    )
    accepted = client.post(
        f"/api/v1/request-items/{first['id']}/review", headers=staff, json={"action": "accept"}
    )
    assert accepted.get_json()["status"] == "accepted"
    # an accepted item refuses a new upload until staff reopen it
    closed = client.post(
        f"/api/v1/request-items/{first['id']}/upload",
        headers=customer,
        data={"file": (io.BytesIO(b"x"), "otro.pdf")},
    )
    assert closed.status_code == 409
    client.post(
        f"/api/v1/request-items/{first['id']}/review", headers=staff, json={"action": "reopen"}
    )
    reopened = client.post(
        f"/api/v1/request-items/{first['id']}/upload",
        headers=customer,
        data={"file": (io.BytesIO(b"x"), "otro.pdf")},
    )
    assert reopened.status_code == 201
    client.post(
        f"/api/v1/request-items/{first['id']}/review", headers=staff, json={"action": "accept"}
    )
    # clients cannot review their own items
    assert (
        client.post(
            f"/api/v1/request-items/{first['id']}/review",
            headers=customer,
            json={"action": "accept"},
        ).status_code
        == 403
    )

    for item in required[2:]:
        client.post(
            f"/api/v1/request-items/{item['id']}/upload",
            headers=customer,
            data={"file": (io.BytesIO(b"x"), "a.pdf")},
        )
        client.post(
            f"/api/v1/request-items/{item['id']}/review", headers=staff, json={"action": "accept"}
        )
    done = client.get(f"/api/v1/requests/{request['id']}", headers=customer).get_json()
    assert done["status"] == "completed" and done["progress"]["percent"] == 100
    assert all(
        i["status"] == "pending" for i in done["items"] if i["id"] in {o["id"] for o in optional}
    )


def test_bad_input(client, world):
    staff = api_token(client, world.staff)
    past = _create(client, staff, world.space_a.id, template="renta", due_date="2020-01-01")
    assert past.status_code == 422 and "due_date" in past.get_json()["errors"]
    unknown = _create(client, staff, world.space_a.id, template="no-existe")
    assert unknown.status_code == 422 and "template" in unknown.get_json()["errors"]
    empty = _create(client, staff, world.space_a.id, items=[])
    assert empty.status_code == 422 and "items" in empty.get_json()["errors"]
    for unclear in ("no", "sí", 2, []):
        vague = _create(
            client, staff, world.space_a.id, items=[{"title": "X", "required": unclear}]
        )
        assert vague.status_code == 422 and "items" in vague.get_json()["errors"], unclear
    optional = _create(client, staff, world.space_a.id, items=[{"title": "X", "required": "false"}])
    assert optional.get_json()["items"][0]["required"] is False
    bad_policy = _create(
        client, staff, world.space_a.id, template="renta", reminders={"overdue_every_days": 0}
    )
    assert bad_policy.status_code == 422 and "reminders" in bad_policy.get_json()["errors"]
    typed = _create(
        client, staff, world.space_a.id, items=[{"title": "Planos", "accepted_types": "pdf,dxf"}]
    ).get_json()
    wrong_type = client.post(
        f"/api/v1/request-items/{typed['items'][0]['id']}/upload",
        headers=api_token(client, world.client_a),
        data={"file": (io.BytesIO(b"MZ"), "virus.exe")},
    )
    assert wrong_type.status_code == 415
    # another client's item: 404 for upload, not-applicable and reading
    other = api_token(client, world.client_b)
    item_id = typed["items"][0]["id"]
    assert (
        client.post(
            f"/api/v1/request-items/{item_id}/upload",
            headers=other,
            data={"file": (io.BytesIO(b"x"), "a.pdf")},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/request-items/{item_id}/not-applicable", headers=other, json={"reason": "x"}
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/requests/{typed['id']}", headers=other).status_code == 404
    # clients cannot create requests
    assert (
        _create(
            client, api_token(client, world.client_a), world.space_a.id, template="renta"
        ).status_code
        == 403
    )


def test_a_review_comment_that_is_not_text_is_an_invalid_field(client, world):
    staff, customer = api_token(client, world.staff), api_token(client, world.client_a)
    request = _create(client, staff, world.space_a.id, items=[{"title": "DNI"}]).get_json()
    item = request["items"][0]
    sent = client.post(
        f"/api/v1/request-items/{item['id']}/upload",
        headers=customer,
        data={"file": (io.BytesIO(b"%PDF dni"), "dni.pdf")},
    )
    assert sent.status_code == 201
    for action in ("reject", "accept"):
        for comment in (["Caducado"], {"text": "Caducado"}, 5, "x" * 2001):
            refused = client.post(
                f"/api/v1/request-items/{item['id']}/review",
                headers=staff,
                json={"action": action, "comment": comment},
            )
            assert refused.status_code == 422, (action, comment, refused.status_code)
            assert "comment" in refused.get_json()["errors"]
    still = client.get(f"/api/v1/requests/{request['id']}", headers=staff).get_json()
    assert still["items"][0]["status"] == "submitted"
    rejected = client.post(
        f"/api/v1/request-items/{item['id']}/review",
        headers=staff,
        json={"action": "reject", "comment": "  Caducado  "},
    )
    assert rejected.status_code == 200 and rejected.get_json()["review_comment"] == "Caducado"


def test_a_template_or_accepted_types_of_the_wrong_shape_is_an_invalid_field(client, world):
    staff, customer = api_token(client, world.staff), api_token(client, world.client_a)
    for template in (["renta"], {"key": "renta"}, [[1]]):
        refused = _create(client, staff, world.space_a.id, template=template)
        assert refused.status_code == 422 and "template" in refused.get_json()["errors"], template
    for types in ({"pdf": True}, 5, ["pdf", 5], [["pdf"]]):
        refused = _create(
            client, staff, world.space_a.id, items=[{"title": "X", "accepted_types": types}]
        )
        assert refused.status_code == 422 and "items" in refused.get_json()["errors"], types
    # the list a request answers with is taken back as it is
    listed = _create(
        client,
        staff,
        world.space_a.id,
        items=[{"title": "Planos", "accepted_types": ["PDF", ".dxf"]}],
    )
    assert listed.status_code == 201
    item = listed.get_json()["items"][0]
    assert item["accepted_types"] == ["pdf", "dxf"]
    sent = client.post(
        f"/api/v1/request-items/{item['id']}/upload",
        headers=customer,
        data={"file": (io.BytesIO(b"%PDF plano"), "plano.pdf")},
    )
    assert sent.status_code == 201


def test_a_step_the_item_does_not_allow_is_a_409_that_says_why_in_spanish(client, world):
    staff, customer = api_token(client, world.staff), api_token(client, world.client_a)
    request = _create(client, staff, world.space_a.id, items=[{"title": "DNI"}]).get_json()
    url = f"/api/v1/request-items/{request['items'][0]['id']}"

    def refused(who, step, body):
        answer = client.post(f"{url}/{step}", headers=who, json=body)
        assert answer.status_code == 409, (step, body, answer.status_code)
        return answer.get_json()["detail"]

    # nothing sent yet: nothing to accept, reject or reopen
    assert "ningún archivo" in refused(staff, "review", {"action": "accept"})
    assert "ningún archivo" in refused(staff, "review", {"action": "reject", "comment": "No"})
    assert "reabre" in refused(staff, "review", {"action": "reopen"})
    sent = client.post(
        f"{url}/upload", headers=customer, data={"file": (io.BytesIO(b"%PDF dni"), "dni.pdf")}
    )
    assert sent.status_code == 201
    assert "Ya se ha enviado" in refused(customer, "not-applicable", {"reason": "No tengo"})
    assert client.post(f"{url}/review", headers=staff, json={"action": "accept"}).status_code == 200
    assert "aceptado" in refused(staff, "review", {"action": "reject", "comment": "No"})


def test_templates_are_listed_and_editable(client, world):
    staff = api_token(client, world.staff)
    keys = {
        t["key"] for t in client.get("/api/v1/request-templates", headers=staff).get_json()["items"]
    }
    assert {"renta", "sociedades", "alta_cliente", "obra", "expediente_judicial"} <= keys
    from app.extensions import db
    from app.services import requests

    requests.update_template(
        world.staff,
        "alta_cliente",
        name="Alta de cliente",
        items=[{"title": "DNI"}, {"title": "CIF"}],
    )
    db.session.commit()
    created = _create(client, staff, world.space_a.id, template="alta_cliente").get_json()
    assert [i["title"] for i in created["items"]] == ["DNI", "CIF"]
    assert make_user  # factories available for other tests
