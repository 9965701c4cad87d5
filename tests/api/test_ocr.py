"""Upload a payslip, get a filled "datos_nomina" form, correct, confirm, export, find it by a word."""

from __future__ import annotations

import csv
import io
import json
import random

import ocr_samples as samples
import pytest
from portal_testing import api_token


@pytest.fixture
def ocr_on(app, web_app):
    app.config["OCR_ON_UPLOAD"] = True
    web_app.config["OCR_ON_UPLOAD"] = True


def payslip_png(seed: int) -> tuple[bytes, samples.SampleDocument]:
    sample = samples.payslip(random.Random(seed))
    out = io.BytesIO()
    sample.image.save(out, "PNG", dpi=(300, 300))
    return out.getvalue(), sample


def _upload(client, headers, space_id: str, data: bytes, name: str) -> str:
    response = client.post(
        f"/api/v1/spaces/{space_id}/documents",
        headers=headers,
        data={"file": (io.BytesIO(data), name), "title": "Nómina de marzo"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_payslip_to_confirmed_form_export_and_search(ocr_on, client, world):
    data, sample = payslip_png(7)
    headers = api_token(client, world.client_a)
    document_id = _upload(client, headers, world.space_a.id, data, "nomina.png")

    text = client.get(f"/api/v1/documents/{document_id}/versions/1/text", headers=headers)
    assert text.status_code == 200
    assert text.get_json()["status"] == "done"
    [page] = text.get_json()["pages"]
    assert (
        page["number"] == 1
        and page["confidence"] > 50
        and sample.expected["iban"][:4] in page["text"].replace(" ", "")
    )

    templates = client.get("/api/v1/form-templates", headers=headers).get_json()["items"]
    assert "datos_nomina" in {t["name"] for t in templates}

    created = client.post(
        f"/api/v1/spaces/{world.space_a.id}/forms",
        headers=headers,
        json={"template": "datos_nomina", "document_id": document_id},
    )
    assert created.status_code == 201, created.get_json()
    form = created.get_json()
    assert form["status"] == "draft" and form["confirmed_values"] == {}
    fields = form["fields"]
    for name in ("employer_cif", "worker_nif", "iban"):
        assert fields[name]["value"].replace(" ", "") == sample.expected[name].replace(" ", "")
        assert fields[name]["page"] == 1 and len(fields[name]["box"]) == 4
        assert fields[name]["source_text"] and fields[name]["confidence"] > 0

    form_url = f"/api/v1/forms/{form['id']}"
    corrected = client.patch(form_url, headers=headers, json={"fields": {"worker": "Ana Gil Soto"}})
    assert corrected.status_code == 200
    assert (
        corrected.get_json()["fields"]["worker"] | {"value": "Ana Gil Soto"}
        == corrected.get_json()["fields"]["worker"]
    )
    assert corrected.get_json()["fields"]["worker"]["corrected"] is True
    assert client.get(f"{form_url}/export?format=csv", headers=headers).status_code == 409

    confirmed = client.patch(form_url, headers=headers, json={"confirm": True})
    assert confirmed.status_code == 200
    values = confirmed.get_json()["confirmed_values"]
    assert values["worker"] == "Ana Gil Soto"
    assert values["iban"].replace(" ", "") == sample.expected["iban"]
    assert client.patch(form_url, headers=headers, json={"confirm": True}).status_code == 409

    exported = client.get(f"{form_url}/export?format=csv", headers=headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = {
        r["field"]: r["value"] for r in csv.DictReader(io.StringIO(exported.get_data(as_text=True)))
    }
    assert rows == values
    as_json = client.get(f"{form_url}/export?format=json", headers=headers)
    assert json.loads(as_json.get_data(as_text=True))["values"] == values

    # A word only inside the payslip finds it; the other client never does.
    word = sample.expected["worker"].split()[-1]
    found = client.get(f"/api/v1/search?q={word}", headers=headers).get_json()["items"]
    assert [item["document_id"] for item in found] == [document_id]
    assert word.lower() in found[0]["snippet"].lower()
    other = api_token(client, world.client_b)
    assert client.get(f"/api/v1/search?q={word}", headers=other).get_json()["items"] == []
    assert client.get(form_url, headers=other).status_code == 404


def test_a_form_on_a_document_not_read_yet_answers_202_with_the_job(client, world, web_app):
    headers = api_token(client, world.staff)
    web_app.config["OCR_ON_UPLOAD"] = False
    document_id = _upload(client, headers, world.space_a.id, b"%PDF-1.4 roto", "roto.pdf")
    response = client.post(
        f"/api/v1/spaces/{world.space_a.id}/forms",
        headers=headers,
        json={"template": "datos_nomina", "document_id": document_id},
    )
    assert response.status_code == 202
    assert response.get_json()["job"]["id"]
    form_id = response.get_json()["form"]["id"]
    # The job ran (inline in tests): the file could not be read, and the form says so.
    form = client.get(f"/api/v1/forms/{form_id}", headers=headers).get_json()
    assert (form["status"], form["ocr_status"], form["ocr_error"]) == (
        "failed",
        "failed",
        "unreadable_file",
    )


def test_form_rules(client, world):
    headers = api_token(client, world.staff)
    url = f"/api/v1/spaces/{world.space_a.id}/forms"
    unknown = client.post(
        url, headers=headers, json={"template": "nada", "document_id": world.shared.id}
    )
    assert unknown.status_code == 422
    not_readable = client.post(
        url, headers=headers, json={"template": "datos_nomina", "document_id": world.internal.id}
    )
    assert not_readable.status_code == 422
    elsewhere = client.post(
        f"/api/v1/spaces/{world.space_a.id}/forms",
        headers=api_token(client, world.admin),
        json={"template": "datos_nomina", "document_id": world.other_doc.id},
    )
    assert elsewhere.status_code == 422  # a document of another space


def test_a_renamed_document_is_found_by_its_new_title_only(client, world):
    from app.extensions import db
    from app.services import search

    search.index_document(world.shared, body="Cláusula de arrendamiento")
    db.session.commit()
    staff = api_token(client, world.staff)

    def titles_found(query: str) -> list[str]:
        response = client.get("/api/v1/search", query_string={"q": query}, headers=staff)
        assert response.status_code == 200
        return [hit["title"] for hit in response.get_json()["items"]]

    old_title = world.shared.title
    assert titles_found(old_title) == [old_title]
    response = client.patch(
        f"/api/v1/documents/{world.shared.id}",
        headers=staff,
        json={"title": "  Escritura de arras   Villaverde "},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "Escritura de arras Villaverde"
    assert titles_found("Villaverde") == ["Escritura de arras Villaverde"]
    assert titles_found("arras") == ["Escritura de arras Villaverde"]
    assert titles_found(old_title) == []
    # the indexed text is kept
    assert titles_found("arrendamiento") == ["Escritura de arras Villaverde"]
    # a blank or missing title changes nothing
    for body in ({"title": "   "}, {"name": "x"}, ["x"]):
        bad = client.patch(f"/api/v1/documents/{world.shared.id}", headers=staff, json=body)
        assert bad.status_code == 422, bad.get_json()
    assert titles_found("Villaverde") == ["Escritura de arras Villaverde"]
    # clients do not rename
    client_a = api_token(client, world.client_a)
    refused = client.patch(
        f"/api/v1/documents/{world.shared.id}", headers=client_a, json={"title": "Otro"}
    )
    assert refused.status_code == 403
