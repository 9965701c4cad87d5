"""The second factor the firm requires is enforced on every channel; /forgot tells nobody anything."""

from __future__ import annotations

import pyotp
from portal_testing import PASSWORD, csrf_token, enable_mfa


def _require_mfa_for_staff(world) -> None:
    from app.extensions import db
    from app.services.settings import update_setting

    update_setting(world.admin, "require_mfa_for_staff", True)
    db.session.commit()


def test_no_token_for_staff_without_a_second_factor_when_the_firm_requires_one(client, world):
    _require_mfa_for_staff(world)
    refused = client.post(
        "/api/v1/auth/token", json={"email": world.staff.email, "password": PASSWORD}
    )
    assert refused.status_code == 403
    body = refused.get_json()
    assert refused.mimetype == "application/problem+json"
    assert body["mfa_enrolment_required"] is True and "token" not in body
    assert body["enrol_url"].endswith("/account/mfa") and "segundo factor" in body["detail"]

    # a client is not concerned; staff with TOTP get their token with a code
    customer = client.post(
        "/api/v1/auth/token", json={"email": world.client_a.email, "password": PASSWORD}
    )
    assert customer.status_code == 200
    secret = enable_mfa(world.staff)
    granted = client.post(
        "/api/v1/auth/token",
        json={"email": world.staff.email, "password": PASSWORD, "otp": pyotp.TOTP(secret).now()},
    )
    assert granted.status_code == 200 and granted.get_json()["token"]


def test_the_web_lets_such_staff_in_only_to_enrol(client, world):
    _require_mfa_for_staff(world)
    token = csrf_token(client)
    client.post(
        "/login", data={"csrf_token": token, "email": world.staff.email, "password": PASSWORD}
    )
    page = client.get(f"/spaces/{world.space_a.id}")
    assert page.status_code == 302 and "/account/mfa" in page.headers["Location"]


def _counts() -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AccountToken, AuditEvent, OutboxMail

    db.session.expire_all()
    return tuple(  # type: ignore[return-value]
        db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (OutboxMail, AuditEvent, AccountToken)
    )


def test_forgot_does_the_same_work_for_known_and_unknown_addresses(web_app, client, world):
    from app.extensions import celery

    queued: list[tuple[str, tuple]] = []
    web_app.extensions["portal_job_runner"] = lambda name, *args: queued.append((name, args))
    before = _counts()
    for address in (world.client_a.email, "nadie@example.com"):
        token = csrf_token(client, "/forgot")
        answer = client.post("/forgot", data={"csrf_token": token, "email": address})
        assert answer.status_code == 302
    # the requests wrote nothing and queued one job each, whoever the address belongs to
    assert _counts() == before
    assert [name for name, _args in queued] == ["portal.send_password_reset"] * 2
    for name, args in queued:
        celery.tasks[name].apply(args=list(args))
    mails, events, tokens = _counts()
    assert (mails, tokens) == (before[0] + 1, before[2] + 1)  # only the known address
    assert events == before[1] + 1
