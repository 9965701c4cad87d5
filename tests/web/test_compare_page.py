"""The compare page: a reviewer opens revision B and sees what changed and their old comments."""

from __future__ import annotations

import io
import re

import pytest
from compare_samples import KNOWN, plan_set
from portal_testing import web_login


@pytest.fixture
def revised(app, world, tmp_path):
    """A plan whose v1 had changes requested (with a pinned comment), and its v2."""
    from app.extensions import db
    from app.services import documents, review

    app.config.update(COMPARE_ON_UPLOAD=True, COMPARE_DPI=72)
    before = plan_set(tmp_path / "A.pdf", [1]).read_bytes()
    after = plan_set(tmp_path / "B.pdf", [1], {1: list(KNOWN)}).read_bytes()
    plan = documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(before), filename="A-101.pdf", title="Plano A-101"
    )
    db.session.commit()
    # the client pins a comment on the door and asks for changes
    review.add_comment(world.client_a, plan.id, body="Falta la puerta?", page=1, x=0.22, y=0.6)
    review.add_comment(world.client_a, plan.id, body="Cota general", page=1, x=0.5, y=0.14)
    review.review_document(world.client_a, plan.id, "request_changes", comment="Revise la planta")
    db.session.commit()
    documents.upload_version(world.staff, plan.id, io.BytesIO(after), filename="A-101-B.pdf")
    db.session.commit()
    return plan.id


def test_reviewer_opens_revision_b_on_what_changed(client, world, revised):
    web_login(client, world.client_a)
    detail = client.get(f"/documents/{revised}").get_data(as_text=True)
    link = f"/documents/{revised}/compare?from=1&amp;to=2"
    assert "en la que se pidieron cambios" in detail and link in detail

    page = client.get(f"/documents/{revised}/compare?from=1&to=2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    summary = re.search(r"Página 1</a>:\s*(\d+) zonas cambiadas", html)
    assert summary and int(summary.group(1)) >= len(KNOWN), html[:3000]
    assert html.count('data-zoom-to="0"') == int(summary.group(1))
    assert "Palabras añadidas" in html and "4.00" in html
    # the old comments, on the new page, open
    assert html.count('class="pin open"') == 4  # two pins, on the overlay and on the new side
    assert "Falta la puerta?" in html and "abierto" in html
    overlay = re.search(r'<img src="([^"]+name=overlay-1.jpg)"', html).group(1)
    assert client.get(overlay.replace("&amp;", "&")).status_code == 200


def test_compare_page_access_and_bad_numbers(app, client, world, revised):
    other = app.test_client()
    web_login(other, world.client_b)
    assert other.get(f"/documents/{revised}/compare").status_code == 404
    web_login(client, world.staff)
    bad = client.get(f"/documents/{revised}/compare?from=cero")
    assert bad.status_code == 422
    assert "El número de versión debe ser un entero" in bad.get_data(as_text=True)
    assert client.get(f"/documents/{revised}/compare?from=7").status_code == 404


def test_drawing_changes_are_listed_over_the_new_drawing(app, client, world, tmp_path):
    import ezdxf

    from app.extensions import db
    from app.services import documents

    app.config.update(COMPARE_ON_UPLOAD=True)
    drawing = ezdxf.new()
    door = drawing.modelspace().add_arc((50, 0), 40, 0, 90, dxfattribs={"layer": "PUERTAS"})
    drawing.modelspace().add_line((0, 0), (0, 300), dxfattribs={"layer": "MUROS"})
    drawing.saveas(tmp_path / "1.dxf")
    door.destroy()
    drawing.saveas(tmp_path / "2.dxf")
    plan = documents.upload_document(
        world.staff,
        world.space_a.id,
        io.BytesIO((tmp_path / "1.dxf").read_bytes()),
        filename="planta.dxf",
        title="Planta",
    )
    db.session.commit()
    documents.upload_version(
        world.staff, plan.id, io.BytesIO((tmp_path / "2.dxf").read_bytes()), filename="planta.dxf"
    )
    db.session.commit()
    web_login(client, world.client_a)
    html = client.get(f"/documents/{plan.id}/compare").get_data(as_text=True)
    assert "Entidades quitadas (1)" in html and "ARC · capa PUERTAS" in html
    assert "Entidades añadidas (0)" in html
    assert 'class="area removed"' in html and "/preview/view" in html


def test_staff_compare_two_files_without_storing_them(app, client, world, tmp_path):
    from app.extensions import db
    from app.models import Document

    before = plan_set(tmp_path / "A.pdf", [1, 2])
    after = plan_set(tmp_path / "B.pdf", [1, 2], {2: ["removed_door"]})
    documents_before = db.session.query(Document).count()
    web_login(client, world.staff)
    page = client.get("/compare")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    answer = client.post(
        "/compare",
        data={
            "csrf_token": token.group(1),
            "before": (io.BytesIO(before.read_bytes()), "A-101.pdf"),
            "after": (io.BytesIO(after.read_bytes()), "A-101-B.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "A-101.pdf → A-101-B.pdf" in html
    assert "1 zona cambiada" in html and html.count("sin cambios") == 1
    assert html.count('src="data:image/jpeg;base64,') == 6  # overlay, before, after per page
    assert db.session.query(Document).count() == documents_before

    wrong = client.post(
        "/compare",
        data={
            "csrf_token": token.group(1),
            "before": (io.BytesIO(b"hola"), "notas.txt"),
            "after": (io.BytesIO(after.read_bytes()), "A-101-B.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422
    assert "Elija un PDF, una imagen o un plano DXF." in wrong.get_data(as_text=True)

    customer = app.test_client()
    web_login(customer, world.client_a)
    assert customer.get("/compare").status_code == 403
