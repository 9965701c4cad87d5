"""A firm that requires a second factor of its clients: new ones enrol TOTP right after choosing
their password, before any onboarding step; existing ones at their next sign-in (API.md,
"Invitations and self-activation")."""

from __future__ import annotations

import re

import pyotp
from portal_testing import PASSWORD, api_token

NEW_PASSWORD = "una-contraseña-larga-2026"


def _require_mfa_for_clients(world, on: bool = True) -> None:
    from app.extensions import db
    from app.services.settings import update_setting

    update_setting(world.admin, "require_mfa_for_clients", on)
    db.session.commit()


def _invite(world, email: str = "nueva@example.com") -> tuple[str, str]:
    """Staff invite a new client; the onboarding id and the invitation link's token."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail
    from app.services import onboarding

    item = onboarding.start_onboarding(
        world.staff, email=email, name="Lucía Martínez Ruiz", kind="person", services=["renta"]
    )
    db.session.commit()
    mails = db.session.execute(select(OutboxMail).order_by(OutboxMail.created_at)).scalars()
    text = [mail for mail in mails if email in mail.to][-1].body_text
    token = re.search(r"/invitation/([A-Za-z0-9_-]+)", text)
    assert token, text
    return item.id, token.group(1)


def test_only_the_setting_makes_a_client_enrol(world):
    from app.services import accounts

    assert not accounts.second_factor_missing(world.client_a)  # off by default
    _require_mfa_for_clients(world)
    assert accounts.second_factor_missing(world.client_a)
    assert not accounts.second_factor_missing(world.staff)  # staff have their own setting


def test_with_the_setting_off_an_invitation_leads_straight_to_the_steps(client, world):
    onboarding_id, token = _invite(world)
    accepted = client.post("/api/v1/auth/invitation", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200 and "mfa_enrolment_required" not in accepted.get_json()
    person = {"Authorization": f"Bearer {accepted.get_json()['token']}"}
    mine = client.get(f"/api/v1/onboardings/{onboarding_id}", headers=person)
    assert mine.status_code == 200 and mine.get_json()["status"] == "identity"


def test_a_new_client_enrols_totp_before_the_onboarding_steps(client, world):
    onboarding_id, token = _invite(world)
    _require_mfa_for_clients(world)
    accepted = client.post(
        "/api/v1/auth/invitation", json={"token": token, "password": NEW_PASSWORD}
    )
    assert accepted.status_code == 200
    assert accepted.get_json()["mfa_enrolment_required"] is True
    person = {"Authorization": f"Bearer {accepted.get_json()['token']}"}

    # the token serves only to enrol: the steps answer how
    held = client.get(f"/api/v1/onboardings/{onboarding_id}", headers=person)
    assert held.status_code == 403 and held.mimetype == "application/problem+json"
    problem = held.get_json()
    assert problem["mfa_enrolment_required"] is True
    assert "/api/v1/me/mfa/totp" in problem["detail"] and problem["enrol_url"].endswith(
        "/account/mfa"
    )
    assert client.get("/api/v1/me", headers=person).get_json()["mfa_enabled"] is False

    started = client.post("/api/v1/me/mfa/totp", headers=person).get_json()
    assert started["otpauth_uri"].startswith("otpauth://totp/")
    wrong = client.post("/api/v1/me/mfa/totp/confirm", headers=person, json={"otp": "000000"})
    assert wrong.status_code == 422 and "otp" in wrong.get_json()["errors"]
    assert client.get("/api/v1/onboardings", headers=person).status_code == 403  # still held
    totp = pyotp.TOTP(started["secret"])
    confirmed = client.post("/api/v1/me/mfa/totp/confirm", headers=person, json={"otp": totp.now()})
    assert confirmed.status_code == 200 and len(confirmed.get_json()["recovery_codes"]) == 10

    # then the onboarding goes on, with the same token; a new one asks for the code
    mine = client.get(f"/api/v1/onboardings/{onboarding_id}", headers=person)
    assert mine.status_code == 200 and mine.get_json()["status"] == "identity"
    body = {"email": "nueva@example.com", "password": NEW_PASSWORD}
    assert client.post("/api/v1/auth/token", json=body).get_json()["mfa_required"] is True


def test_an_existing_client_without_totp_gets_no_token_and_is_told_how_to_enrol(client, world):
    before = api_token(client, world.client_a)  # issued while the setting was off
    staff = api_token(client, world.staff)
    _require_mfa_for_clients(world)
    refused = client.post(
        "/api/v1/auth/token", json={"email": world.client_a.email, "password": PASSWORD}
    )
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert body["mfa_enrolment_required"] is True and "token" not in body
    assert "clientes" in body["detail"] and body["enrol_url"].endswith("/account/mfa")
    # a token from before serves only to enrol; staff are not concerned
    assert client.get(f"/api/v1/spaces/{world.space_a.id}", headers=before).status_code == 403
    assert client.post("/api/v1/me/mfa/totp", headers=before).status_code == 200
    assert client.get(f"/api/v1/spaces/{world.space_a.id}", headers=staff).status_code == 200
