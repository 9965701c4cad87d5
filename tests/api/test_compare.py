"""GET /api/v1/documents/{id}/compare: what changed between two versions, by the API."""

from __future__ import annotations

import io

import pytest
from compare_samples import KNOWN, mm_box, plan_set, precision_recall
from PIL import Image
from portal_testing import api_token, pdf_bytes


@pytest.fixture
def plans(app, tmp_path):
    app.config.update(COMPARE_ON_UPLOAD=True, COMPARE_DPI=72)
    before = plan_set(tmp_path / "A.pdf", [1, 2]).read_bytes()
    after = plan_set(tmp_path / "B.pdf", [1, 3, 2], {2: list(KNOWN)}).read_bytes()
    return before, after


def _upload(client, headers, space_id, data, name="planta.pdf", visibility=None):
    form = {"file": (io.BytesIO(data), name), "title": "Planta baja"}
    if visibility:
        form["visibility"] = visibility
    answer = client.post(f"/api/v1/spaces/{space_id}/documents", headers=headers, data=form)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def _new_version(client, headers, document_id, data, name="planta-B.pdf"):
    answer = client.post(
        f"/api/v1/documents/{document_id}/versions",
        headers=headers,
        data={"file": (io.BytesIO(data), name)},
    )
    assert answer.status_code == 201, answer.get_json()


def test_a_new_version_is_compared_with_the_previous_one(client, world, plans):
    staff = api_token(client, world.staff)
    customer = api_token(client, world.client_a)
    document = _upload(client, staff, world.space_a.id, plans[0])
    _new_version(client, staff, document, plans[1])

    answer = client.get(f"/api/v1/documents/{document}/compare", headers=customer)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["from"], body["to"], body["status"], body["kind"]) == (1, 2, "done", "pdf")
    pages = [(p["from_page"], p["to_page"]) for p in body["pages"]]
    assert pages == [(1, 1), (None, 2), (2, 3)]
    first, inserted, moved = body["pages"]
    assert first["changed_areas"] == []
    assert inserted["overlay_url"] is None and inserted["to_url"]
    found = [area["box"] for area in moved["changed_areas"]]
    precision, recall = precision_recall(found, [mm_box(box) for box in KNOWN.values()])
    assert precision >= 0.95 and recall >= 0.95
    assert [w["text"] for w in moved["words_added"]] == ["4.00"]
    assert body["overlay_urls"] == [first["overlay_url"], moved["overlay_url"]]

    image = client.get(moved["overlay_url"], headers=customer)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(image.data)) as picture:
        assert list(picture.size) == moved["image_size"]
    # another client, or an outsider, does not learn the document exists
    for other in (world.client_b, world.outsider):
        headers = api_token(client, other)
        assert (
            client.get(f"/api/v1/documents/{document}/compare", headers=headers).status_code == 404
        )
        assert client.get(moved["overlay_url"], headers=headers).status_code == 404


def test_any_two_versions_on_demand_and_bad_numbers(client, world, plans):
    staff = api_token(client, world.staff)
    document = _upload(client, staff, world.space_a.id, plans[0])
    url = f"/api/v1/documents/{document}/compare"
    only_one = client.get(url, headers=staff)
    assert only_one.status_code == 422 and "from" in only_one.get_json()["errors"]
    _new_version(client, staff, document, plans[1])
    _new_version(client, staff, document, plans[0], "planta-C.pdf")

    back = client.get(f"{url}?from=1&to=3", headers=staff).get_json()
    assert back["status"] == "done" and back["changed"] is False
    assert all(p["changed_areas"] == [] for p in back["pages"])
    reverse = client.get(f"{url}?from=3&to=2", headers=staff).get_json()
    assert reverse["changed"] is True
    for query, status in (("from=0", 422), ("to=x", 422), ("from=9", 404), ("to=7", 404)):
        answer = client.get(f"{url}?{query}", headers=staff)
        assert answer.status_code == status, (query, answer.get_json())
        assert answer.mimetype == "application/problem+json"
    bad_name = client.get(f"{url}/image?from=1&to=3&name=../../etc", headers=staff)
    assert bad_name.status_code == 404


def test_files_that_cannot_be_compared_say_so(client, world, plans):
    staff = api_token(client, world.staff)
    document = _upload(client, staff, world.space_a.id, pdf_bytes("Memoria"), "memoria.pdf")
    _new_version(client, staff, document, b"texto plano\n", "memoria.txt")
    body = client.get(f"/api/v1/documents/{document}/compare", headers=staff).get_json()
    assert body["status"] == "failed" and body["error"] == "unsupported"
    assert body["pages"] == []


def test_internal_documents_are_not_found_for_clients(client, world, plans):
    staff = api_token(client, world.staff)
    document = _upload(client, staff, world.space_a.id, plans[0], visibility="internal")
    _new_version(client, staff, document, plans[1])
    customer = api_token(client, world.client_a)
    assert client.get(f"/api/v1/documents/{document}/compare", headers=staff).status_code == 200
    answer = client.get(f"/api/v1/documents/{document}/compare", headers=customer)
    assert answer.status_code == 404


def test_drawings_are_compared_by_entity(client, world, plans, tmp_path):
    import ezdxf

    drawing = ezdxf.new()
    model = drawing.modelspace()
    wall = model.add_line((0, 0), (0, 300), dxfattribs={"layer": "MUROS"})
    door = model.add_arc((50, 0), 40, 0, 90, dxfattribs={"layer": "PUERTAS"})
    drawing.saveas(tmp_path / "1.dxf")
    wall.dxf.end = (0, 350)
    door.destroy()
    model.add_text("COTA", dxfattribs={"layer": "COTAS", "insert": (100, 320)})
    drawing.saveas(tmp_path / "2.dxf")
    staff = api_token(client, world.staff)
    document = _upload(client, staff, world.space_a.id, (tmp_path / "1.dxf").read_bytes(), "p.dxf")
    _new_version(client, staff, document, (tmp_path / "2.dxf").read_bytes(), "p.dxf")

    body = client.get(f"/api/v1/documents/{document}/compare", headers=staff).get_json()
    assert (body["status"], body["kind"], body["pages"]) == ("done", "dxf", [])
    changes = body["dxf"]
    assert [(e["type"], e["layer"]) for e in changes["added"]] == [("TEXT", "COTAS")]
    assert [(e["type"], e["layer"]) for e in changes["removed"]] == [("ARC", "PUERTAS")]
    assert [(e["type"], e["layer"]) for e in changes["changed"]] == [("LINE", "MUROS")]
    assert all(0 <= v <= 1 for e in changes["added"] for v in e["box"])


def test_by_default_from_the_last_version_the_caller_reviewed(client, world, plans):
    staff = api_token(client, world.staff)
    customer = api_token(client, world.client_a)
    document = _upload(client, staff, world.space_a.id, plans[0])
    asked = client.post(
        f"/api/v1/documents/{document}/review",
        headers=customer,
        json={"action": "request_changes", "comment": "Falta la puerta"},
    )
    assert asked.status_code == 200, asked.get_json()
    _new_version(client, staff, document, plans[1])
    _new_version(client, staff, document, plans[1], "planta-C.pdf")

    mine = client.get(f"/api/v1/documents/{document}/compare", headers=customer).get_json()
    assert (mine["from"], mine["to"], mine["changed"]) == (1, 3, True)
    theirs = client.get(f"/api/v1/documents/{document}/compare", headers=staff).get_json()
    assert (theirs["from"], theirs["to"], theirs["changed"]) == (2, 3, False)
