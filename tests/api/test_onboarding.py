"""Invitations and self-activation over the API (docs/api.md), from the invitation to active spaces."""

from __future__ import annotations

import io
import random
import re
from datetime import date
from typing import Any

import pytest
from identity_samples import identity_document, jpeg_bytes, photographed
from PIL import Image
from portal_testing import PASSWORD, api_token

pytestmark = pytest.mark.usefixtures("signing_ready")

NEW_PASSWORD = "una-contraseña-larga-2026"


def _outbox(address: str) -> list[Any]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail

    db.session.expire_all()
    mails = db.session.execute(select(OutboxMail).order_by(OutboxMail.created_at)).scalars()
    return [mail for mail in mails if address in mail.to]


def _invitation_token(address: str) -> str:
    mail = _outbox(address)[-1]
    match = re.search(r"/invitation/([A-Za-z0-9_-]+)", mail.body_text)
    assert match, mail.body_text
    return match.group(1)


def _sample(seed: int = 0, **options: Any):
    rng = random.Random(seed)
    return identity_document(rng, kind="dni", today=date.today(), **options)


def _start(client, staff, sample, *, email="nueva@example.com", services=("renta",)) -> dict:
    name = f"{sample.expected['given_names']} {sample.expected['surnames']}".title()
    response = client.post(
        "/api/v1/onboardings",
        headers=staff,
        json={"email": email, "name": name, "kind": "person", "services": list(services)},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _accept(client, email="nueva@example.com") -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/invitation",
        json={"token": _invitation_token(email), "password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _send_identity(client, person, onboarding_id, sample, *, photo=False):
    front, back = sample.front, sample.back
    if photo:
        rng = random.Random(7)
        front, back = photographed(front, rng), photographed(back, rng)
    return client.post(
        f"/api/v1/onboardings/{onboarding_id}/identity",
        headers=person,
        data={
            "front": (io.BytesIO(jpeg_bytes(front)), "dni-delante.jpg"),
            "back": (io.BytesIO(jpeg_bytes(back)), "dni-detras.jpg"),
        },
        content_type="multipart/form-data",
    )


def _sign(client, headers, request_id: str, email: str) -> dict:
    sent = client.post(f"/api/v1/signature-requests/{request_id}/email-code", headers=headers)
    assert sent.status_code == 202, sent.get_json()
    code = _outbox(email)[-1].subject.rsplit(" ", 1)[-1]
    signed = client.post(
        f"/api/v1/signature-requests/{request_id}/sign", headers=headers, json={"otp": code}
    )
    assert signed.status_code in (200, 202), signed.get_json()
    return signed.get_json()


def test_the_catalogue_ships_three_services_in_spanish(client, world):
    customer = api_token(client, world.client_a)
    listed = client.get("/api/v1/catalog", headers=customer).get_json()["items"]
    assert {s["key"] for s in listed} >= {"renta", "contabilidad", "obra"}
    renta = next(s for s in listed if s["key"] == "renta")
    assert renta["space_kind"] == "fiscal_year" and "Renta" in renta["name"]


def test_only_an_admin_adds_a_service_and_bad_fields_are_named(client, world):
    staff = api_token(client, world.staff)
    admin = api_token(client, world.admin)
    body = {
        "key": "laboral",
        "name": "Nóminas",
        "space_kind": "general",
        "space_name": "Nóminas {year}",
    }
    assert client.post("/api/v1/catalog", headers=staff, json=body).status_code == 403
    bad = client.post(
        "/api/v1/catalog",
        headers=admin,
        json={**body, "key": "Con Espacios", "space_kind": "otro", "space_name": "X {nada}"},
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) >= {"key", "space_kind", "space_name"}
    created = client.post("/api/v1/catalog", headers=admin, json=body)
    assert created.status_code == 201 and created.get_json()["key"] == "laboral"
    again = client.post("/api/v1/catalog", headers=admin, json=body)
    assert again.status_code == 422 and "key" in again.get_json()["errors"]


def test_from_invitation_to_active_space(app, client, world):
    staff = api_token(client, world.staff)
    sample = _sample(0)
    started = _start(client, staff, sample)
    assert started["status"] == "invited"
    assert [s["status"] for s in started["steps"]][:2] == ["current", "pending"]
    mail = _outbox("nueva@example.com")[-1]
    assert "Renta de persona física" in mail.body_text

    person = _accept(client)
    again = client.post(
        "/api/v1/auth/invitation",
        json={"token": _invitation_token("nueva@example.com"), "password": NEW_PASSWORD},
    )
    assert again.status_code == 404  # a replayed invitation link
    neither = client.post("/api/v1/auth/invitation", json={})
    assert neither.status_code == 422
    assert set(neither.get_json()["errors"]) == {"token", "password"}
    mine = client.get("/api/v1/onboardings", headers=person).get_json()["items"]
    assert [o["id"] for o in mine] == [started["id"]] and mine[0]["status"] == "identity"

    read = _send_identity(client, person, started["id"], sample)
    assert read.status_code == 201, read.get_json()
    identity = read.get_json()["identity"]
    assert identity["mrz_valid"] and identity["problems"] == []
    assert identity["fields"]["document_number"] == sample.expected["document_number"]
    assert identity["details"]["document_number"]["box"][2] > 0
    # the photos are the client's internal documents: staff see them, the person does not
    onboarding_row = client.get(f"/api/v1/onboardings/{started['id']}", headers=staff).get_json()
    space_docs = client.get(
        f"/api/v1/spaces/{_intake_space(started['id'])}/documents", headers=staff
    ).get_json()["items"]
    assert sum(d["visibility"] == "internal" for d in space_docs) == 2
    seen = client.get(
        f"/api/v1/spaces/{_intake_space(started['id'])}/documents", headers=person
    ).get_json()["items"]
    assert seen == []
    assert onboarding_row["status"] == "identity"

    confirmed = client.post(
        f"/api/v1/onboardings/{started['id']}/identity/confirm", headers=person, json={}
    )
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "review"
    assert confirmed.get_json()["waiting_on"] == "firm"

    approved = client.post(f"/api/v1/onboardings/{started['id']}/approve", headers=staff, json={})
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "engagement"
    request_id = body["engagement_signature_request_id"]
    assert request_id and body["waiting_on"] == "client"

    letter = client.get(
        f"/api/v1/documents/{body['engagement_document_id']}/versions/1/content", headers=person
    )
    assert letter.status_code == 200 and letter.get_data().startswith(b"%PDF-")
    assert b"pdfaid" in letter.get_data()  # PDF/A identification

    _sign(client, person, request_id, "nueva@example.com")
    waiting = client.get(f"/api/v1/onboardings/{started['id']}", headers=person).get_json()
    assert waiting["status"] == "engagement" and waiting["waiting_on"] == "firm"
    _sign(client, staff, request_id, world.staff.email)

    final = client.get(f"/api/v1/onboardings/{started['id']}", headers=person).get_json()
    assert final["status"] == "active"
    assert [s["status"] for s in final["steps"]] == ["done"] * 5
    assert [s["name"] for s in final["spaces"]] == [f"Renta {date.today().year}"]
    renta_space = final["spaces"][0]["id"]
    requests = client.get(f"/api/v1/spaces/{renta_space}/requests", headers=person).get_json()
    assert len(requests["items"]) == 1 and requests["items"][0]["items"]
    validation = client.get(
        f"/api/v1/documents/{body['engagement_document_id']}/versions/3/validation", headers=person
    ).get_json()
    assert validation["valid"]
    assert sample.expected["document_number"] in _certificate_subject(final["user_id"])


def _intake_space(onboarding_id: str) -> str:
    from app.extensions import db
    from app.models import Onboarding

    db.session.expire_all()
    return db.session.get(Onboarding, onboarding_id).intake_space_id


def _certificate_subject(user_id: str) -> str:
    from cryptography import x509
    from sqlalchemy import select

    from app.extensions import db
    from app.models import SignerCertificate

    row = db.session.execute(
        select(SignerCertificate).where(SignerCertificate.user_id == user_id)
    ).scalar_one()
    return x509.load_pem_x509_certificate(row.certificate_pem).subject.rfc4514_string()


def test_an_onboarding_of_someone_else_is_not_found(client, world):
    staff = api_token(client, world.staff)
    started = _start(client, staff, _sample(1))
    customer = api_token(client, world.client_a)
    for method, path in (
        ("get", f"/api/v1/onboardings/{started['id']}"),
        ("post", f"/api/v1/onboardings/{started['id']}/identity/confirm"),
        ("post", f"/api/v1/onboardings/{started['id']}/identity"),
    ):
        response = getattr(client, method)(
            path, headers=customer, json={} if method == "post" and "confirm" in path else None
        )
        assert response.status_code == 404, path
    assert client.get("/api/v1/onboardings", headers=customer).get_json()["items"] == []
    assert (
        client.post(
            f"/api/v1/onboardings/{started['id']}/approve", headers=customer, json={}
        ).status_code
        == 404
    )


def test_an_expired_card_is_flagged_and_cannot_be_approved(client, world):
    staff = api_token(client, world.staff)
    sample = _sample(2, expired=True)
    started = _start(client, staff, sample)
    person = _accept(client)
    read = _send_identity(client, person, started["id"], sample).get_json()
    assert "expired_document" in read["identity"]["problems"]
    assert any("caducado" in m for m in read["identity"]["messages"])
    client.post(f"/api/v1/onboardings/{started['id']}/identity/confirm", headers=person, json={})
    refused = client.post(f"/api/v1/onboardings/{started['id']}/approve", headers=staff, json={})
    assert refused.status_code == 409
    assert refused.get_json()["problems"] == ["expired_document"]
    rejected = client.post(
        f"/api/v1/onboardings/{started['id']}/reject",
        headers=staff,
        json={"reason": "DNI caducado"},
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    steps = {s["name"]: s["status"] for s in rejected.get_json()["steps"]}
    assert steps["review"] == "failed"


def test_a_forged_mrz_and_a_name_that_does_not_match_are_flagged(client, world):
    staff = api_token(client, world.staff)
    sample = _sample(0, forged=True)
    response = client.post(
        "/api/v1/onboardings",
        headers=staff,
        json={
            "email": "otra@example.com",
            "name": "Rosa Ruiz Pérez",
            "kind": "person",
            "services": ["renta"],
        },
    ).get_json()
    person = _accept(client, "otra@example.com")
    read = _send_identity(client, person, response["id"], sample).get_json()
    assert set(read["identity"]["problems"]) >= {"mrz_check_failed", "name_mismatch"}


def test_a_document_number_already_used_by_another_client_is_flagged(client, world):
    from app.extensions import db

    sample = _sample(0)
    world.client_a.national_id = sample.expected["document_number"]
    db.session.commit()
    staff = api_token(client, world.staff)
    started = _start(client, staff, sample)
    person = _accept(client)
    read = _send_identity(client, person, started["id"], sample).get_json()
    assert "document_already_used" in read["identity"]["problems"]


def test_bad_identity_files_get_a_clear_answer_and_nothing_is_stored(client, world):
    staff = api_token(client, world.staff)
    started = _start(client, staff, _sample(3))
    person = _accept(client)
    before = client.get(
        f"/api/v1/spaces/{_intake_space(started['id'])}/documents", headers=staff
    ).get_json()["items"]

    def send(data: bytes, name: str):
        return client.post(
            f"/api/v1/onboardings/{started['id']}/identity",
            headers=person,
            data={"front": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )

    too_big = send(b"\xff\xd8\xff" + b"\0" * (40 * 1024 * 1024), "enorme.jpg")
    assert too_big.status_code == 413
    not_an_image = send(b"esto no es una foto", "dni.jpg")
    assert not_an_image.status_code == 415
    blank = io.BytesIO()
    Image.new("RGB", (1200, 800), (250, 250, 250)).save(blank, "PDF")
    no_id = send(blank.getvalue(), "escaneo.pdf")
    assert no_id.status_code == 201
    assert "unreadable" in no_id.get_json()["identity"]["problems"]
    assert no_id.get_json()["identity"]["hints"]
    after = client.get(
        f"/api/v1/spaces/{_intake_space(started['id'])}/documents", headers=staff
    ).get_json()["items"]
    assert len(after) == len(before) + 1  # only the readable PDF was kept, for staff to see
    missing = client.post(
        f"/api/v1/onboardings/{started['id']}/identity/confirm", headers=person, json={}
    )
    assert missing.status_code == 422  # nothing read: the person must type what is missing
    assert "document_number" in missing.get_json()["errors"]


def _four_eyes_with_identity_sent(client, world):
    """Four eyes on and a second staff member; an onboarding whose person has sent the photos.
    Returns (second, staff's headers, the sample, the onboarding, the person's headers)."""
    from portal_testing import make_user

    from app.extensions import db
    from app.services.settings import update_setting

    update_setting(world.admin, "onboarding_four_eyes", True)
    second = make_user("staff", email="segunda@example.com")
    db.session.commit()
    staff = api_token(client, world.staff)
    sample = _sample(0)
    started = _start(client, staff, sample)
    person = _accept(client)
    _send_identity(client, person, started["id"], sample)
    return second, staff, sample, started, person


def test_corrections_are_checked_and_four_eyes_need_a_second_person(client, world):
    second, staff, sample, started, person = _four_eyes_with_identity_sent(client, world)
    wrong_letter = sample.expected["document_number"][:-1] + (
        "A" if sample.expected["document_number"][-1] != "A" else "B"
    )
    bad = client.post(
        f"/api/v1/onboardings/{started['id']}/identity/confirm",
        headers=person,
        json={"fields": {"document_number": wrong_letter, "birth_date": "31/02/1980"}},
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"document_number", "birth_date"}
    good = client.post(
        f"/api/v1/onboardings/{started['id']}/identity/confirm", headers=person, json={"fields": {}}
    )
    assert good.status_code == 200
    first = client.post(f"/api/v1/onboardings/{started['id']}/approve", headers=staff, json={})
    assert first.status_code == 200 and first.get_json()["status"] == "review"
    assert first.get_json()["approvals"] == 1
    twice = client.post(f"/api/v1/onboardings/{started['id']}/approve", headers=staff, json={})
    assert twice.status_code == 409
    other = api_token(client, second)
    done = client.post(f"/api/v1/onboardings/{started['id']}/approve", headers=other, json={})
    assert done.status_code == 200 and done.get_json()["status"] == "engagement"


def test_an_active_client_takes_one_more_service_with_an_addendum(client, world):
    staff = api_token(client, world.staff)
    sample = _sample(0)
    started = _start(client, staff, sample)
    person = _accept(client)
    _send_identity(client, person, started["id"], sample)
    client.post(f"/api/v1/onboardings/{started['id']}/identity/confirm", headers=person, json={})
    body = client.post(
        f"/api/v1/onboardings/{started['id']}/approve", headers=staff, json={}
    ).get_json()
    early = client.post("/api/v1/catalog/obra/subscribe", headers=person)
    assert early.status_code == 409  # not active yet
    _sign(client, person, body["engagement_signature_request_id"], "nueva@example.com")
    _sign(client, staff, body["engagement_signature_request_id"], world.staff.email)

    taken = client.post("/api/v1/catalog/obra/subscribe", headers=person)
    assert taken.status_code == 201, taken.get_json()
    addendum = taken.get_json()
    assert addendum["addendum"] and addendum["status"] == "engagement"
    assert [s["status"] for s in addendum["steps"]][:3] == ["skipped"] * 3
    again = client.post("/api/v1/catalog/obra/subscribe", headers=person)
    assert again.status_code == 409
    _sign(client, person, addendum["engagement_signature_request_id"], "nueva@example.com")
    _sign(client, staff, addendum["engagement_signature_request_id"], world.staff.email)
    final = client.get(f"/api/v1/onboardings/{addendum['id']}", headers=person).get_json()
    assert final["status"] == "active"
    assert [s["kind"] for s in final["spaces"]] == ["project"]
    assert client.post("/api/v1/catalog/nada/subscribe", headers=person).status_code == 404


def test_staff_fields_are_checked_when_starting(client, world):
    staff = api_token(client, world.staff)
    customer = api_token(client, world.client_a)
    body = {"email": "x@example.com", "name": "X", "kind": "company", "services": ["renta"]}
    assert client.post("/api/v1/onboardings", headers=customer, json=body).status_code == 403
    bad = client.post(
        "/api/v1/onboardings",
        headers=staff,
        json={"email": "no-es-un-email", "name": "", "kind": "company", "services": ["nada"]},
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) >= {"name", "client_name", "services"}
    taken = client.post(
        "/api/v1/onboardings",
        headers=staff,
        json={
            "email": world.client_a.email,
            "name": "Otra",
            "kind": "person",
            "services": ["renta"],
        },
    )
    assert taken.status_code == 422 and "email" in taken.get_json()["errors"]
    assert PASSWORD  # the world's people keep their own password


def test_a_service_with_a_field_of_the_wrong_type_is_refused_naming_that_field(client, world):
    admin = api_token(client, world.admin)
    body = {
        "key": "laboral",
        "name": "Nóminas",
        "space_kind": "general",
        "space_name": "Nóminas {year}",
    }
    for field, value in (
        ("space_kind", []),
        ("space_kind", {}),
        ("space_kind", ["x"]),
        ("space_kind", ["general"]),
        ("space_kind", 3),
        ("key", ["laboral"]),
        ("name", {"a": 1}),
        ("space_name", []),
        ("description", ["x"]),
        ("request_template", {"key": "renta"}),
        ("engagement_template", [1]),
        ("fees", 150),
    ):
        answer = client.post("/api/v1/catalog", headers=admin, json={**body, field: value})
        assert answer.status_code == 422, (field, value, answer.get_data(as_text=True)[:300])
        assert answer.mimetype == "application/problem+json"
        assert field in answer.get_json()["errors"], (field, value, answer.get_json())
    assert client.post("/api/v1/catalog", headers=admin, json=body).status_code == 201


def test_an_address_with_control_characters_or_too_long_is_not_invited(client, world):
    staff = api_token(client, world.staff)
    for address in ("ana\x00@example.com", "ana@exam\x07ple.com", "a" * 65 + "@example.com"):
        response = client.post(
            "/api/v1/onboardings",
            headers=staff,
            json={"email": address, "name": "Ana", "kind": "person", "services": ["renta"]},
        )
        assert response.status_code == 422, (address, response.get_json())
        assert set(response.get_json()["errors"]) == {"email"}
    assert _outbox("example.com") == []


def test_a_rejected_or_expired_onboarding_ends_its_invitation_link(client, world):
    from datetime import UTC, datetime, timedelta

    from app.extensions import db
    from app.services.onboarding import expire_stalled

    staff = api_token(client, world.staff)
    started = _start(client, staff, _sample(4))
    token = _invitation_token("nueva@example.com")
    rejected = client.post(
        f"/api/v1/onboardings/{started['id']}/reject", headers=staff, json={"reason": "No procede"}
    )
    assert rejected.status_code == 200
    late = client.post("/api/v1/auth/invitation", json={"token": token, "password": NEW_PASSWORD})
    assert late.status_code == 404

    _start(client, staff, _sample(5), email="tarde@example.com")
    token = _invitation_token("tarde@example.com")
    assert expire_stalled(datetime.now(UTC) + timedelta(days=3650)) == 1
    db.session.commit()
    late = client.post("/api/v1/auth/invitation", json={"token": token, "password": NEW_PASSWORD})
    assert late.status_code == 404


def test_rejecting_during_the_engagement_withdraws_the_letter_to_sign(client, world):
    staff = api_token(client, world.staff)
    sample = _sample(0)
    started = _start(client, staff, sample)
    person = _accept(client)
    _send_identity(client, person, started["id"], sample)
    client.post(f"/api/v1/onboardings/{started['id']}/identity/confirm", headers=person, json={})
    approved = client.post(f"/api/v1/onboardings/{started['id']}/approve", headers=staff, json={})
    request_id = approved.get_json()["engagement_signature_request_id"]
    rejected = client.post(
        f"/api/v1/onboardings/{started['id']}/reject", headers=staff, json={"reason": "Ya no"}
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    request = client.get(f"/api/v1/signature-requests/{request_id}", headers=staff).get_json()
    assert request["status"] == "cancelled"
    code = client.post(f"/api/v1/signature-requests/{request_id}/email-code", headers=person)
    assert code.status_code == 409


def test_confirmed_dates_are_real_dates_in_the_past_written_as_the_contract_says(client, world):
    staff = api_token(client, world.staff)
    sample = _sample(0)
    started = _start(client, staff, sample)
    person = _accept(client)
    _send_identity(client, person, started["id"], sample)
    for fields, field in (
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "19800101"}, "birth_date"),
        ({"expiry_date": "2035W011"}, "expiry_date"),
    ):
        bad = client.post(
            f"/api/v1/onboardings/{started['id']}/identity/confirm",
            headers=person,
            json={"fields": fields},
        )
        assert bad.status_code == 422, (fields, bad.get_json())
        assert set(bad.get_json()["errors"]) == {field}


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that says it is width x height (the pixels are never needed to refuse it)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_a_photo_with_far_too_many_pixels_is_named_as_such_not_as_a_wrong_type(client, world):
    staff = api_token(client, world.staff)
    started = _start(client, staff, _sample(6))
    person = _accept(client)
    for side in (20000, 60000):  # past the pixel limit, and past Pillow's own bomb limit
        answer = client.post(
            f"/api/v1/onboardings/{started['id']}/identity",
            headers=person,
            data={"front": (io.BytesIO(_png_header_only(side, side)), "dni.png")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 422, (side, answer.get_json())
        assert set(answer.get_json()["errors"]) == {"front"}


def test_an_invitation_link_used_twice_at_once_signs_in_once(client, world):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import AccountToken
    from app.services import onboarding
    from app.services.errors import NotFound

    staff = api_token(client, world.staff)
    _start(client, staff, _sample(7))
    token = _invitation_token("nueva@example.com")
    # a second request has read the link, still unused, when the first one uses it
    seen = db.session.execute(select(AccountToken)).scalars().all()
    used = client.post("/api/v1/auth/invitation", json={"token": token, "password": NEW_PASSWORD})
    assert used.status_code == 200
    with pytest.raises(NotFound):
        onboarding.accept_invitation(token, NEW_PASSWORD)
    db.session.rollback()
    assert seen


def test_two_approvals_at_once_send_one_letter(client, world):
    from app.extensions import db
    from app.models import Onboarding, SignatureRequest
    from app.services import onboarding
    from app.services.errors import InvalidTransition

    staff = api_token(client, world.staff)
    sample = _sample(0)
    started = _start(client, staff, sample)
    person = _accept(client)
    _send_identity(client, person, started["id"], sample)
    client.post(f"/api/v1/onboardings/{started['id']}/identity/confirm", headers=person, json={})
    # a second staff request has read the onboarding in review when the first one approves it
    seen = db.session.get(Onboarding, started["id"])
    assert seen is not None and seen.status == "review"
    first = client.post(f"/api/v1/onboardings/{started['id']}/approve", headers=staff, json={})
    assert first.status_code == 200 and first.get_json()["status"] == "engagement"
    with pytest.raises(InvalidTransition):
        onboarding.approve(world.staff, started["id"], today=date.today())
    db.session.rollback()
    assert db.session.query(SignatureRequest).count() == 1


def test_an_invitation_to_a_deactivated_person_no_longer_signs_in(client, world):
    from app.extensions import db
    from app.services import accounts

    staff = api_token(client, world.staff)
    started = _start(client, staff, _sample(8))
    token = _invitation_token("nueva@example.com")
    accounts.set_active(world.admin, started["user_id"], False)
    db.session.commit()
    answer = client.post("/api/v1/auth/invitation", json={"token": token, "password": NEW_PASSWORD})
    assert answer.status_code == 404, answer.get_json()


def test_with_four_eyes_two_approvals_at_once_both_count(client, world):
    from app.extensions import db
    from app.models import Onboarding
    from app.services import onboarding

    second, staff, sample, started, person = _four_eyes_with_identity_sent(client, world)
    client.post(f"/api/v1/onboardings/{started['id']}/identity/confirm", headers=person, json={})
    # the second approver's request has read the onboarding before the first approval
    seen = db.session.get(Onboarding, started["id"])
    assert seen is not None and seen.approvals == []
    first = client.post(f"/api/v1/onboardings/{started['id']}/approve", headers=staff, json={})
    assert first.status_code == 200 and first.get_json()["approvals"] == 1
    both = onboarding.approve(second, started["id"], today=date.today())
    db.session.commit()
    assert both.status == "engagement" and len(both.approvals) == 2
