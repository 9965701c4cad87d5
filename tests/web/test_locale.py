"""Dates, sizes and amounts in the reader's language: ``1.234,56`` in Spanish, ``1,234.56`` in English."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from portal_testing import CSRF_RE, web_login


def _speaks(user, locale):
    from app.extensions import db
    from app.services import accounts

    accounts.set_locale(user, locale)
    db.session.commit()


def _as(client, world, locale):
    _speaks(world.client_a, locale)
    web_login(client, world.client_a)


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def seeded(app, world):
    """A 1.5 MB file, a request due on 5 March 2030, a payslip form and a dated notice."""
    from app.extensions import db
    from app.models import FormSubmission
    from app.services import documents, notifications, requests

    big = documents.upload_document(
        world.client_a,
        world.space_a.id,
        io.BytesIO(b"%PDF-1.4\n" + b"0" * (1536 * 1024 - 9)),
        filename="escritura.pdf",
        title="Escritura",
    )
    due = requests.create_request(
        world.staff,
        world.space_a.id,
        title="Renta 2029",
        due_date=date(2030, 3, 5),
        items=[{"title": "DNI"}],
        today=date.today(),
    )
    form = FormSubmission(
        template="datos_nomina",
        space_id=world.space_a.id,
        document_id=big.id,
        version_id=big.current_version.id,
        fields={
            "net": {
                "value": "1.234,56",
                "confidence": 92.0,
                "page": 1,
                "box": [1, 1, 2, 2],
                "source_text": "1.234,56",
                "confirmed": False,
            },
            "gross": {
                "value": "12.345.678,90",
                "confidence": 92.0,
                "page": 1,
                "box": [1, 1, 2, 2],
                "source_text": "12.345.678,90",
                "confirmed": False,
            },
        },
        status="draft",
        created_by_id=world.client_a.id,
    )
    db.session.add(form)
    notifications.notify(
        [world.client_a],
        "alert_request",
        link=f"/requests/{due.id}",
        title="Renta 2029",
        due="2030-03-05",
    )
    db.session.commit()
    return {"document": big, "request": due, "form": form}


@pytest.mark.parametrize(
    ("locale", "size", "due", "net", "gross"),
    [
        ("es", "1,5 MB", "5 de marzo de 2030", "1.234,56", "12.345.678,90"),
        ("en", "1.5 MB", "March 5, 2030", "1,234.56", "12,345,678.90"),
    ],
)
def test_dates_sizes_and_amounts_follow_the_language(
    client, world, seeded, locale, size, due, net, gross
):
    _as(client, world, locale)
    document = _text(client.get(f"/documents/{seeded['document'].id}"))
    assert size in document
    assert size in _text(client.get(f"/spaces/{world.space_a.id}"))
    assert due in _text(client.get(f"/requests/{seeded['request'].id}"))
    notices = _text(client.get("/notifications"))
    assert ("5 mar 2030" if locale == "es" else "Mar 5, 2030") in notices
    assert "2030-03-05" not in notices
    form = _text(client.get(f"/forms/{seeded['form'].id}"))
    assert f'value="{net}"' in form
    assert f'value="{gross}"' in form


def _post_form(client, form_id, **fields):
    page = client.get(f"/forms/{form_id}").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    data = {"csrf_token": token, **{f"field-{k}": v for k, v in fields.items()}}
    return client.post(f"/forms/{form_id}", data=data)


def test_an_amount_typed_the_english_way_is_kept_as_the_same_amount(client, world, seeded, app):
    from app.extensions import db
    from app.models import FormSubmission

    _as(client, world, "en")
    form_id = seeded["form"].id
    # unchanged values are not corrections; a new amount typed as 2,345.67 is 2.345,67
    response = _post_form(client, form_id, net="2,345.67", gross="12,345,678.90")
    assert response.status_code == 302
    db.session.expire_all()
    fields = db.session.get(FormSubmission, form_id).fields
    assert fields["net"]["value"] == "2.345,67" and fields["net"]["corrected"]
    assert fields["gross"]["value"] == "12.345.678,90" and not fields["gross"].get("corrected")
    assert 'value="2,345.67"' in _text(client.get(f"/forms/{form_id}"))

    # in Spanish the same amount reads 2.345,67; typed text that is no number stays as typed
    _speaks(world.client_a, "es")
    assert 'value="2.345,67"' in _text(client.get(f"/forms/{form_id}"))
    _post_form(client, form_id, net="unos dos mil", gross="12.345.678,90")
    db.session.expire_all()
    fields = db.session.get(FormSubmission, form_id).fields
    assert fields["net"]["value"] == "unos dos mil"
    assert fields["gross"]["value"] == "12.345.678,90"


@pytest.mark.parametrize(
    ("locale", "typed", "shown"),
    [("es", "2,5", "2,5"), ("es", "2.5", "2,5"), ("en", "2.5", "2.5"), ("en", "1,024", "1,024")],
)
def test_a_quota_is_typed_and_shown_with_the_readers_decimal_mark(
    client, world, app, locale, typed, shown
):
    from decimal import Decimal

    from app.extensions import db
    from app.models import Client

    _speaks(world.admin, locale)
    web_login(client, world.admin)
    page = f"/clients/{world.firm_a.id}"
    token = CSRF_RE.search(client.get(page).get_data(as_text=True)).group(1)
    response = client.post(f"{page}/quota", data={"csrf_token": token, "quota_gb": typed})
    assert response.status_code == 302
    db.session.expire_all()
    expected = Decimal(typed.replace(",", ".") if locale == "es" else typed.replace(",", ""))
    assert db.session.get(Client, world.firm_a.id).storage_quota == int(expected * 1024**3)
    assert re.search(rf'name="quota_gb"[^>]*value="{re.escape(shown)}"', _text(client.get(page)))


def test_a_quota_that_is_no_number_is_refused_in_the_readers_language(client, world, app):
    from app.extensions import db
    from app.models import Client

    _speaks(world.admin, "en")
    web_login(client, world.admin)
    page = f"/clients/{world.firm_a.id}"
    token = CSRF_RE.search(client.get(page).get_data(as_text=True)).group(1)
    response = client.post(
        f"{page}/quota",
        data={"csrf_token": token, "quota_gb": "2,5,0"},
        follow_redirects=True,
    )
    assert "Enter the quota in GB" in _text(response)
    db.session.expire_all()
    assert db.session.get(Client, world.firm_a.id).storage_quota is None  # nothing changed


def test_sign_in_errors_speak_english_to_an_english_browser(client, world):
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": world.client_a.email, "password": "wrong"},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Wrong e-mail or password." in page
    assert "incorrectos" not in page


def test_upload_and_review_errors_speak_the_readers_language(client, world):
    _as(client, world, "en")
    page = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)
    token = re.search(r'name="up-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        f"/spaces/{world.space_a.id}/upload",
        data={
            "up-csrf_token": token,
            "up-file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 600), "programa.pdf"),
            "up-visibility": "shared",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "This file type is not accepted (exe). Nothing has been saved." in text
    assert "no se admite" not in text

    # asking for changes without saying which is refused, in English
    document = client.get(f"/documents/{world.shared.id}").get_data(as_text=True)
    token = CSRF_RE.search(document).group(1)
    response = client.post(
        f"/documents/{world.shared.id}/review",
        data={"csrf_token": token, "action": "request_changes", "comment": ""},
        follow_redirects=True,
    )
    assert "Explain what needs to change." in response.get_data(as_text=True)
