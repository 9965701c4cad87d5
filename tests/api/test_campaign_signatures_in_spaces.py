"""A signature campaign without a ZIP: each client signs the latest PDF the firm filed in the
client's space of the campaign (over JSON, as docs/api.md's campaign row describes)."""

from __future__ import annotations

import io
from datetime import date, timedelta

from portal_signing import annual_accounts_pdf
from portal_testing import api_token, make_user

DUE = (date.today() + timedelta(days=30)).isoformat()
#: The campaign each test runs: every chosen client signs in their "Cuentas 2025" space.
CAMPAIGN = {
    "name": "Cuentas 2025",
    "kind": "signature",
    "due_date": DUE,
    "space_kind": "general",
    "space_name": "Cuentas 2025",
}


def _firm_with_a_person(client, admin, name: str) -> str:
    """A company client with one person who may sign; its id."""
    firm = client.post(
        "/api/v1/clients", headers=admin, json={"name": name, "kind": "company"}
    ).get_json()["id"]
    make_user("client", client_id=firm)
    return firm


def _accounts_space(client, admin, firm: str) -> str:
    """A new "Cuentas 2025" space of the client; its id."""
    return client.post(
        f"/api/v1/clients/{firm}/spaces",
        headers=admin,
        json={"name": "Cuentas 2025", "kind": "general"},
    ).get_json()["id"]


def _file(client, admin, space_id: str, data: bytes, name: str = "cuentas.pdf", **form: str):
    """A document filed by the firm in the space; its JSON."""
    filed = client.post(
        f"/api/v1/spaces/{space_id}/documents",
        headers=admin,
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )
    assert filed.status_code == 201, filed.get_json()
    return filed.get_json()


def _start(client, admin, firms: list[str]):
    """The signature campaign for ``firms``, as answered."""
    return client.post("/api/v1/campaigns", headers=admin, json={**CAMPAIGN, "clients": firms})


def test_each_client_signs_the_latest_pdf_of_their_space_and_one_without_is_told_why(client, world):
    admin = api_token(client, world.admin)
    ids = {
        name: _firm_with_a_person(client, admin, name) for name in ("Ñandú S.L.", "Obras Ebro S.A.")
    }
    # the firm files Ñandú's accounts in its "Cuentas 2025" space (an older PDF and a text too)
    space = _accounts_space(client, admin, ids["Ñandú S.L."])
    for title, data, name in (
        ("Borrador", annual_accounts_pdf(pages=1), "borrador.pdf"),
        ("Cuentas anuales 2025", annual_accounts_pdf(pages=2), "cuentas.pdf"),
        ("Nota", b"solo texto", "nota.txt"),
    ):
        _file(client, admin, space, data, name, title=title)
    listed = client.get(f"/api/v1/spaces/{space}/documents", headers=admin).get_json()
    accounts = next(d for d in listed["items"] if d["title"] == "Cuentas anuales 2025")
    filed_id = accounts["id"]

    nothing_chosen = client.post("/api/v1/campaigns", headers=admin, json=CAMPAIGN)
    assert nothing_chosen.status_code == 422  # neither clients nor a ZIP

    sent = _start(client, admin, list(ids.values()))
    assert sent.status_code in (201, 202), sent.get_json()
    campaign = client.get(f"/api/v1/campaigns/{sent.get_json()['id']}", headers=admin).get_json()
    assert campaign["status"] == "done"
    rows = {r["client_id"]: r for r in campaign["clients"]}
    signing = rows[ids["Ñandú S.L."]]
    assert signing["signature_request_id"] and signing["status"] == "open"
    asked = client.get(
        f"/api/v1/signature-requests/{signing['signature_request_id']}", headers=admin
    ).get_json()
    assert asked["document_id"] == filed_id  # the latest PDF, not the draft nor the note
    missing = rows[ids["Obras Ebro S.A."]]
    assert missing["status"] == "failed" and "Cuentas 2025" in missing["error"]

    # the firm files the PDF the reason asked for, and asks for that client again
    customer = api_token(client, world.client_a)
    retried_url = f"/api/v1/campaigns/{campaign['id']}/retry"
    assert client.post(retried_url, headers=customer, json={}).status_code == 404
    ebro_spaces = client.get(
        f"/api/v1/clients/{ids['Obras Ebro S.A.']}/spaces", headers=admin
    ).get_json()["items"]
    (ebro_space,) = [s["id"] for s in ebro_spaces if s["name"] == "Cuentas 2025"]
    filed = _file(client, admin, ebro_space, annual_accounts_pdf(pages=1))
    again = client.post(retried_url, headers=admin, json={"client_ids": [ids["Obras Ebro S.A."]]})
    assert again.status_code == 200, again.get_json()
    campaign = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=admin).get_json()
    assert campaign["status"] == "done" and campaign["totals"]["failed"] == 0
    rows = {r["client_id"]: r for r in campaign["clients"]}
    ebro = rows[ids["Obras Ebro S.A."]]
    assert ebro["status"] == "open" and ebro["signature_request_id"]
    asked = client.get(
        f"/api/v1/signature-requests/{ebro['signature_request_id']}", headers=admin
    ).get_json()
    assert asked["document_id"] == filed["id"]
    # Ñandú's request was left as it was: nothing made twice
    assert rows[ids["Ñandú S.L."]]["signature_request_id"] == signing["signature_request_id"]
    ebro_spaces = client.get(
        f"/api/v1/clients/{ids['Obras Ebro S.A.']}/spaces", headers=admin
    ).get_json()["items"]
    assert [s["name"] for s in ebro_spaces].count("Cuentas 2025") == 1
    # nothing failed any more: naming a client is a clear 422, asking for all does nothing
    none_failed = client.post(
        retried_url, headers=admin, json={"client_ids": [ids["Obras Ebro S.A."]]}
    )
    assert none_failed.status_code == 422 and "client_ids" in none_failed.get_json()["errors"]
    assert client.post(retried_url, headers=admin, json={}).status_code == 200


def test_a_client_prepared_twice_keeps_the_one_signature_request_already_made(client, world):
    """A job delivered twice (or two retries at once) may find a row still to prepare whose
    signature request the other run has just made: it takes that one, never fails the row."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import CampaignClient, SignatureRequest
    from app.services import campaigns

    admin = api_token(client, world.admin)
    firm = _firm_with_a_person(client, admin, "Ñandú S.L.")
    filed = _file(client, admin, _accounts_space(client, admin, firm), annual_accounts_pdf(pages=1))
    sent = _start(client, admin, [firm]).get_json()
    board = client.get(f"/api/v1/campaigns/{sent['id']}", headers=admin).get_json()
    (made,) = board["clients"]
    assert made["status"] == "open" and made["signature_request_id"]

    # the other run read the row before this one wrote it
    row = db.session.execute(
        select(CampaignClient).where(CampaignClient.campaign_id == sent["id"])
    ).scalar_one()
    row.status, row.signature_request_id = "pending", None
    db.session.commit()
    campaigns.run_one(row.id, today=date.today())
    db.session.commit()

    board = client.get(f"/api/v1/campaigns/{sent['id']}", headers=admin).get_json()
    (again,) = board["clients"]
    assert again["status"] == "open" and again["error"] is None
    assert again["signature_request_id"] == made["signature_request_id"]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(SignatureRequest)
            .where(SignatureRequest.document_id == filed["id"])
        )
        == 1
    )


def test_two_retries_at_once_prepare_a_failed_client_once(client, world):
    """The second of two retries sent together finds the row no longer failed (the first
    has claimed it): it is told so and queues nothing, rather than a second run."""
    import pytest
    from sqlalchemy import select, update

    from app.extensions import db
    from app.models import CampaignClient
    from app.services import campaigns
    from app.services.errors import ValidationFailed

    admin = api_token(client, world.admin)
    firm = _firm_with_a_person(client, admin, "Obras Ebro S.A.")
    sent = _start(client, admin, [firm]).get_json()
    (row,) = db.session.execute(
        select(CampaignClient).where(CampaignClient.campaign_id == sent["id"])
    ).scalars()
    assert row.status == "failed"  # no PDF in the space

    # the other retry, on its own connection, has just put the row back in the queue
    with db.engine.begin() as other:
        other.execute(
            update(CampaignClient)
            .where(CampaignClient.id == row.id)
            .values(status="pending", error=None, attempts=0)
        )
    with pytest.raises(ValidationFailed) as refused:
        campaigns.retry(world.admin, sent["id"], [firm])
    assert "client_ids" in refused.value.errors
    db.session.rollback()
    assert campaigns.retry(world.admin, sent["id"]) == 0


def test_a_client_with_two_spaces_of_that_name_signs_in_the_first_and_the_others_go_on(
    client, world
):
    """Spaces may share a name: the campaign takes the client's oldest one, as a request
    campaign does, instead of stopping the job for every client after that one."""
    admin = api_token(client, world.admin)
    firms = {
        name: _firm_with_a_person(client, admin, name) for name in ("Ñandú S.L.", "Obras Ebro S.A.")
    }
    filed = {}
    for firm, copies in ((firms["Ñandú S.L."], 2), (firms["Obras Ebro S.A."], 1)):
        for _copy in range(copies):
            space = _accounts_space(client, admin, firm)
            sent = _file(client, admin, space, annual_accounts_pdf(pages=1))
            filed.setdefault(firm, sent["id"])  # the first space's PDF
    made = _start(client, admin, list(firms.values()))
    assert made.status_code == 202, made.get_json()
    board = client.get(f"/api/v1/campaigns/{made.get_json()['id']}", headers=admin).get_json()
    assert board["status"] == "done"
    for row in board["clients"]:
        assert row["status"] == "open" and row["error"] is None, row
        asked = client.get(
            f"/api/v1/signature-requests/{row['signature_request_id']}", headers=admin
        ).get_json()
        assert asked["document_id"] == filed[row["client_id"]]


def test_an_unexpected_error_on_one_client_fails_that_row_and_the_others_are_prepared(
    client, world, monkeypatch
):
    """One client's trouble must not hold up the others, even a bug: its row fails with a
    reason staff may retry, and the campaign ends instead of staying «running»."""
    from app.services import campaigns

    admin = api_token(client, world.admin)
    firms = {
        name: _firm_with_a_person(client, admin, name) for name in ("Ñandú S.L.", "Obras Ebro S.A.")
    }
    for firm in firms.values():
        _file(client, admin, _accounts_space(client, admin, firm), annual_accounts_pdf(pages=1))
    real = campaigns._sign_request_for

    def breaks_for_nandu(acting, campaign, row, space):  # type: ignore[no-untyped-def]
        if row.client_id == firms["Ñandú S.L."]:
            raise RuntimeError("a bug")
        return real(acting, campaign, row, space)

    monkeypatch.setattr(campaigns, "_sign_request_for", breaks_for_nandu)
    made = _start(client, admin, list(firms.values()))
    assert made.status_code == 202, made.get_json()
    board = client.get(f"/api/v1/campaigns/{made.get_json()['id']}", headers=admin).get_json()
    assert board["status"] == "done"
    rows = {r["client_id"]: r for r in board["clients"]}
    assert rows[firms["Obras Ebro S.A."]]["status"] == "open"
    broken = rows[firms["Ñandú S.L."]]
    assert broken["status"] == "failed" and broken["error"]
    assert "a bug" not in broken["error"]  # the details are for the log, not the board

    monkeypatch.setattr(campaigns, "_sign_request_for", real)
    again = client.post(f"/api/v1/campaigns/{made.get_json()['id']}/retry", headers=admin, json={})
    assert again.status_code == 200
    board = client.get(f"/api/v1/campaigns/{made.get_json()['id']}", headers=admin).get_json()
    rows = {r["client_id"]: r for r in board["clients"]}
    assert rows[firms["Ñandú S.L."]]["status"] == "open" and board["status"] == "done"
