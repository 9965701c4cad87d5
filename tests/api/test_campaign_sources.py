"""Campaigns chosen by a CSV of tax ids or a ZIP of PDFs named by NIF; removing and closing."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, timedelta

import pytest
from portal_signing import annual_accounts_pdf
from portal_testing import api_token, make_user

DUE = (date.today() + timedelta(days=30)).isoformat()
# valid Spanish tax ids: two companies (CIF), a person (DNI) and a foreigner (NIE)
TAX_IDS = {"Ñandú S.L.": "B12345674", "Obras Ebro S.A.": "A28000008", "Lucía Gil": "12345678Z"}
NIE = "X1234567L"


@pytest.fixture
def firms(client, world):
    admin = api_token(client, world.admin)
    made = {}
    for name, tax_id in {**TAX_IDS, "Ahmed Ben": NIE}.items():
        made[name] = client.post(
            "/api/v1/clients",
            headers=admin,
            json={"name": name, "tax_id": tax_id, "kind": "company"},
        ).get_json()["id"]
    return admin, made


def _form(**fields):
    form = {
        "name": "Renta 2026",
        "kind": "request",
        "template": "renta",
        "due_date": DUE,
        "space_kind": "fiscal_year",
        "space_name": "Renta {year}",
    }
    form.update(fields)
    return form


def _count_campaigns() -> int:
    from app.extensions import db
    from app.models import Campaign

    return db.session.query(Campaign).count()


def test_an_excel_csv_of_tax_ids_chooses_the_clients_and_bad_rows_are_named(client, firms):
    admin, made = firms
    # Excel on Windows: Windows-1252, ";" and a header; odd spacing and case; one row twice
    excel = "NIF;Razón social\r\nb-12345674;Ñandú S.L.\r\n 12.345.678-z ;Lucía Gil\r\n"
    excel += "B12345674;Ñandú otra vez\r\n;\r\n"
    sent = client.post(
        "/api/v1/campaigns",
        headers=admin,
        data={**_form(), "clients_csv": (io.BytesIO(excel.encode("cp1252")), "clientes.csv")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 202, sent.get_json()
    campaign = sent.get_json()
    assert sorted(r["client_id"] for r in campaign["clients"]) == sorted(
        [made["Ñandú S.L."], made["Lucía Gil"]]
    )
    assert campaign["notices"] == [
        {"kind": "duplicate", "line": 4, "value": "B12345674", "message": "Repetido"}
    ]

    # UTF-8 with a BOM, "," and no header; an unknown and an invalid tax id refuse it all
    before = _count_campaigns()
    utf8 = "\ufeffA28000008,Obras\nB00000000,Nadie\nX1234567L,Ahmed\nHOLA,?\n"
    refused = client.post(
        "/api/v1/campaigns",
        headers=admin,
        data={**_form(), "clients_csv": (io.BytesIO(utf8.encode("utf-8")), "c.csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    message = refused.get_json()["errors"]["clients_csv"]
    assert "línea 2: B00000000" in message and "línea 4: HOLA (no es un NIF válido)" in message
    assert "A28000008" not in message and _count_campaigns() == before

    # a Windows-1252 byte far down a long file: read once, in that encoding
    padding = "".join(f"A28000008;Obras {n}\r\n" for n in range(4000))  # about 90 KB
    late = f"NIF;Nombre\r\n{padding}12345678Z;Lucía\r\n".encode("cp1252")
    long_csv = client.post(
        "/api/v1/campaigns",
        headers=admin,
        data={**_form(), "clients_csv": (io.BytesIO(late), "largo.csv")},
        content_type="multipart/form-data",
    ).get_json()
    assert len(long_csv["clients"]) == 2 and len(long_csv["notices"]) == 101
    assert long_csv["notices"][-1]["message"] == "(y 3899 más)"
    before += 1

    # the same as JSON, by tax ids
    by_list = client.post(
        "/api/v1/campaigns",
        headers=admin,
        json={**_form(), "tax_ids": ["A28000008", "x-1234567-l"]},
    )
    assert by_list.status_code == 202 and len(by_list.get_json()["clients"]) == 2

    # 100,000 rows are refused at once, without reading them all
    huge = io.BytesIO(b"NIF\n" + b"B12345674\n" * 100_000)
    started = time.perf_counter()
    too_many = client.post(
        "/api/v1/campaigns",
        headers=admin,
        data={**_form(), "clients_csv": (huge, "todos.csv")},
        content_type="multipart/form-data",
    )
    assert too_many.status_code == 422 and "20000 filas" in too_many.get_json()["errors"][
        "clients_csv"
    ].replace(".", "").replace(",", "")
    assert time.perf_counter() - started < 5 and _count_campaigns() == before + 1


def _zip(files: dict[str, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    out.seek(0)
    return out


@pytest.mark.usefixtures("signing_ready")
def test_a_signature_campaign_from_a_zip_of_pdfs_named_by_nif(app, client, world, firms):
    from app.extensions import celery, db
    from app.models import Document, SignatureRequest

    admin, made = firms
    for name in ("Ñandú S.L.", "Lucía Gil", "Ahmed Ben"):
        make_user("client", client_id=made[name])
    pdf = annual_accounts_pdf(pages=1)
    archive = _zip(
        {
            "cuentas/B12345674.pdf": pdf,
            "cuentas/12345678Z cuentas 2025.pdf": pdf,
            "cuentas/B76543214.pdf": pdf,  # a valid CIF, no client has it
            f"cuentas/{NIE}.pdf": pdf,
            f"cuentas/{NIE} copia.pdf": pdf,  # two files for one client
            "cuentas/A28000008 leeme.txt": b"no es un pdf",
            "__MACOSX/._B12345674.pdf": b"x",
        }
    )
    form = _form(kind="signature", template="", space_kind="general", space_name="Cuentas 2025")
    sent = client.post(
        "/api/v1/campaigns",
        headers=admin,
        data={**form, "documents_zip": (archive, "cuentas.zip")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 202, sent.get_json()
    campaign = client.get(f"/api/v1/campaigns/{sent.get_json()['id']}", headers=admin).get_json()
    rows = {r["client_id"]: r for r in campaign["clients"]}
    assert set(rows) == {made["Ñandú S.L."], made["Lucía Gil"]}
    assert all(r["signature_request_id"] and r["signed"] is False for r in rows.values()), rows
    left_out = {n["value"]: n["message"] for n in campaign["notices"]}
    assert left_out == {
        "cuentas/B76543214.pdf": "ningún cliente tiene el NIF B76543214",
        f"cuentas/{NIE}.pdf": "hay 2 archivos para el mismo cliente",
        f"cuentas/{NIE} copia.pdf": "hay 2 archivos para el mismo cliente",
        "cuentas/A28000008 leeme.txt": "no es un PDF",
    }

    # the bulk reminder e-mails each signer again each time staff ask, even right away
    remind = f"/api/v1/campaigns/{campaign['id']}/remind"
    assert client.post(remind, headers=admin).get_json() == {"reminded": 2}
    assert client.post(remind, headers=admin).get_json() == {"reminded": 2}

    # a re-run makes nothing twice; taking a client out keeps what was made for it
    celery.tasks["portal.run_campaign"].apply(args=[campaign["id"]])
    db.session.expire_all()
    assert db.session.query(Document).filter_by(title="Renta 2026").count() == 2
    assert db.session.query(SignatureRequest).count() == 2
    removed = client.post(
        f"/api/v1/campaigns/{campaign['id']}/remove",
        headers=admin,
        json={"client_ids": [made["Lucía Gil"]]},
    ).get_json()
    assert {r["client_id"]: r["status"] for r in removed["clients"]}[made["Lucía Gil"]] == "removed"
    assert removed["totals"]["clients"] == 1
    closed = client.post(f"/api/v1/campaigns/{campaign['id']}/close", headers=admin, json={})
    assert closed.status_code == 200
    statuses = {r["client_id"]: r["status"] for r in closed.get_json()["clients"]}
    assert statuses == {made["Ñandú S.L."]: "closed", made["Lucía Gil"]: "removed"}
    db.session.expire_all()
    assert sorted(s.status for s in db.session.query(SignatureRequest)) == [
        "cancelled",
        "pending",
    ]

    # hostile ZIPs: a name that climbs out, a bomb, not a ZIP at all
    before = _count_campaigns()
    for files, expected in (
        ({"../../etc/B12345674.pdf": pdf}, "no permitidos"),
        ({"B12345674.pdf": b"%PDF-1.4" + b"\0" * 3_000_000}, "bomba ZIP"),
    ):
        refused = client.post(
            "/api/v1/campaigns",
            headers=admin,
            data={**form, "documents_zip": (_zip(files), "c.zip")},
            content_type="multipart/form-data",
        )
        assert (
            refused.status_code == 422 and expected in refused.get_json()["errors"]["documents_zip"]
        )
    not_zip = client.post(
        "/api/v1/campaigns",
        headers=admin,
        data={**form, "documents_zip": (io.BytesIO(b"hola"), "c.zip")},
        content_type="multipart/form-data",
    )
    assert not_zip.get_json()["errors"]["documents_zip"] == "El archivo no es un ZIP válido."
    assert _count_campaigns() == before


def test_a_client_removed_half_way_is_skipped_and_closing_stops_the_reminders(
    web_app, client, world, firms
):
    from app.extensions import celery, db
    from app.models import DocumentRequest, OutboxMail

    admin, made = firms
    people = {name: make_user("client", client_id=made[name]) for name in TAX_IDS}
    runner = web_app.extensions.get("portal_job_runner")
    web_app.extensions["portal_job_runner"] = lambda name, *args: None  # the job waits
    try:
        campaign = client.post(
            "/api/v1/campaigns",
            headers=admin,
            json={
                **_form(template=None, items=[{"title": "Modelo 100"}]),
                "tax_ids": [*TAX_IDS.values()],
            },
        ).get_json()
    finally:
        web_app.extensions["portal_job_runner"] = runner
    assert {r["status"] for r in campaign["clients"]} == {"pending"}
    gone = client.post(
        f"/api/v1/campaigns/{campaign['id']}/remove",
        headers=admin,
        json={"client_ids": [made["Lucía Gil"]]},
    )
    assert gone.status_code == 200, gone.get_json()
    celery.tasks["portal.run_campaign"].apply(args=[campaign["id"]])
    board = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=admin).get_json()
    statuses = {r["client_id"]: r["status"] for r in board["clients"]}
    assert statuses[made["Lucía Gil"]] == "removed" and board["status"] == "done"
    assert db.session.query(DocumentRequest).filter_by(title="Renta 2026").count() == 2
    assert client.get("/api/v1/audit/verify", headers=admin).get_json()["ok"] is True
    # the campaign's space is the client's: its people are members and see the request
    agenda = client.get("/api/v1/me/agenda", headers=api_token(client, people["Ñandú S.L."]))
    assert any(i["title"] == "Modelo 100" for i in agenda.get_json()["items"])

    bad = client.post(
        f"/api/v1/campaigns/{campaign['id']}/close", headers=admin, json={"client_ids": ["x"]}
    )
    assert bad.status_code == 422
    closed = client.post(
        f"/api/v1/campaigns/{campaign['id']}/close",
        headers=admin,
        json={"client_ids": [made["Ñandú S.L."]]},
    ).get_json()
    assert {r["client_id"]: r["status"] for r in closed["clients"]}[made["Ñandú S.L."]] == "closed"
    before = db.session.query(OutboxMail).count()
    reminded = client.post(f"/api/v1/campaigns/{campaign['id']}/remind", headers=admin).get_json()
    assert reminded == {"reminded": 1}  # Obras Ebro only
    mails = db.session.query(OutboxMail).order_by(OutboxMail.created_at).all()[before:]
    assert [m.to for m in mails] == [[people["Obras Ebro S.A."].email]]


@pytest.mark.usefixtures("signing_ready")
def test_a_client_the_job_cannot_prepare_fails_for_good_and_the_campaign_still_ends_done(
    client, firms
):
    """A failed row is final (its cause, here a client with nobody to sign, does not go away
    by running again): the campaign ends, the row says why, and it is not counted as pending."""
    admin, made = firms
    make_user("client", client_id=made["Ñandú S.L."])  # Lucía Gil has nobody on the portal
    pdf = annual_accounts_pdf(pages=1)
    archive = _zip({"B12345674.pdf": pdf, "12345678Z.pdf": pdf})
    form = _form(kind="signature", template="", space_kind="general", space_name="Cuentas 2025")
    sent = client.post(
        "/api/v1/campaigns",
        headers=admin,
        data={**form, "documents_zip": (archive, "cuentas.zip")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 202, sent.get_json()
    campaign = client.get(f"/api/v1/campaigns/{sent.get_json()['id']}", headers=admin).get_json()
    assert campaign["status"] == "done"
    rows = {r["client_id"]: r for r in campaign["clients"]}
    failed = rows[made["Lucía Gil"]]
    assert failed["status"] == "failed" and "firme" in failed["error"]
    assert rows[made["Ñandú S.L."]]["status"] == "open"
    assert campaign["totals"] == {"clients": 2, "done": 0, "pending": 1, "overdue": 0, "failed": 1}
