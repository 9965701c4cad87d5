"""The picture beside a form's value: the page it was read from, with the value's box drawn in."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from portal_testing import web_login

RED = (220, 30, 30)


@pytest.fixture
def scanned_form(app, world) -> str:
    """A payslip form read from a 600 × 400 scan, its worker's name found at (100, 100)."""
    from app.extensions import db
    from app.models import FormSubmission
    from app.services import documents

    scan = io.BytesIO()
    Image.new("RGB", (600, 400), "white").save(scan, "PNG")
    scan.seek(0)
    document = documents.upload_document(
        world.client_a, world.space_a.id, scan, filename="nomina.png", title="Nómina"
    )
    form = FormSubmission(
        template="datos_nomina",
        space_id=world.space_a.id,
        document_id=document.id,
        version_id=document.current_version.id,
        fields={
            "worker": {
                "value": "Ana Pérez",
                "confidence": 91.0,
                "page": 1,
                "box": [100, 100, 200, 150],
                "page_width": 600,
                "page_height": 400,
            }
        },
        status="draft",
        created_by_id=world.client_a.id,
    )
    db.session.add(form)
    db.session.commit()
    return form.id


def test_the_value_is_boxed_on_its_page(client, world, scanned_form):
    web_login(client, world.client_a)
    response = client.get(f"/forms/{scanned_form}/fields/worker.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    picture = Image.open(io.BytesIO(response.data)).convert("RGB")
    assert picture.size == (600, 400)
    assert picture.getpixel((97, 125)) == RED  # the box's left edge, beside the value
    assert picture.getpixel((150, 125)) == (255, 255, 255)  # the value itself is not hidden
    assert client.get(f"/forms/{scanned_form}/fields/net.png").status_code == 404  # not found


@pytest.mark.parametrize("web_app_config", [{"OCR_MAX_BYTES": 64}])
def test_a_document_over_the_reading_limit_has_no_picture(client, world, scanned_form):
    web_login(client, world.client_a)
    assert client.get(f"/forms/{scanned_form}/fields/worker.png").status_code == 404
