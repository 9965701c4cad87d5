"""The firm's setting and the pages: a new client enrols TOTP between their password and their
onboarding, resumes it at the next sign-in, and is never let in without it."""

from __future__ import annotations

import re

import pyotp
from portal_testing import csrf_token, web_login

NEW_PASSWORD = "una-contraseña-larga-2026"


def test_the_admin_turns_it_on_and_a_new_client_enrols_before_the_steps(client, world):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMail
    from app.services import onboarding
    from app.services.settings import get_setting

    # the admin's checkbox, off by default
    web_login(client, world.admin)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Exigir a los clientes un segundo factor" in page
    assert 'name="require_mfa_for_clients"' in page and "checked" not in page
    saved = client.post(
        "/admin/settings",
        data={"csrf_token": csrf_token(client, "/admin/settings"), "require_mfa_for_clients": "y"},
    )
    assert saved.status_code == 302 and get_setting("require_mfa_for_clients") is True
    assert get_setting("require_mfa_for_staff") is False
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/")})

    item = onboarding.start_onboarding(
        world.staff,
        email="nueva@example.com",
        name="Lucía Martínez Ruiz",
        kind="person",
        services=["renta"],
    )
    db.session.commit()
    mail = [
        m for m in db.session.execute(select(OutboxMail)).scalars() if "nueva@example.com" in m.to
    ][-1]
    link = re.search(r"(/invitation/[A-Za-z0-9_-]+)", mail.body_text).group(1)

    # the password from the invitation, then the enrolment page, not the steps
    chosen = client.post(
        link,
        data={
            "csrf_token": csrf_token(client, link),
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert chosen.status_code == 302
    step = client.get(chosen.headers["Location"])
    assert step.status_code == 302 and "/account/mfa" in step.headers["Location"]
    enrol_url = step.headers["Location"]
    setup = client.get(enrol_url).get_data(as_text=True)
    assert "a sus clientes" in setup and "<svg" in setup
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', setup).group(1)

    # leaving half-way: the next sign-in asks again, with the same secret
    client.post("/logout", data={"csrf_token": csrf_token(client, enrol_url)})
    answer = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(client),
            "email": "nueva@example.com",
            "password": NEW_PASSWORD,
        },
    )
    again = client.get(answer.headers["Location"])
    assert again.status_code == 302 and "/account/mfa" in again.headers["Location"]
    assert client.get(f"/onboarding/{item.id}").status_code == 302

    # a wrong code is refused, the right one shows the recovery codes and goes on to the steps
    enrol_url = f"/account/mfa?required=1&next=/onboarding/{item.id}"
    wrong = client.post(enrol_url, data={"csrf_token": csrf_token(client, enrol_url), "code": "1"})
    assert "recovery-codes" not in wrong.get_data(as_text=True)
    assert secret in wrong.get_data(as_text=True)
    done = client.post(
        enrol_url,
        data={"csrf_token": csrf_token(client, enrol_url), "code": pyotp.TOTP(secret).now()},
    ).get_data(as_text=True)
    assert "recovery-codes" in done and f'href="/onboarding/{item.id}"' in done
    assert client.get(f"/onboarding/{item.id}").status_code == 200


def test_an_existing_client_is_asked_at_the_next_sign_in_and_cannot_turn_it_off(client, world):
    from app.extensions import db
    from app.services.settings import update_setting

    update_setting(world.admin, "require_mfa_for_clients", True)
    db.session.commit()
    web_login(client, world.client_a)
    held = client.get(f"/spaces/{world.space_a.id}")
    assert held.status_code == 302 and "/account/mfa" in held.headers["Location"]
    setup = client.get(held.headers["Location"]).get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', setup).group(1)
    url = held.headers["Location"]
    client.post(url, data={"csrf_token": csrf_token(client, url), "code": pyotp.TOTP(secret).now()})
    assert client.get(f"/spaces/{world.space_a.id}").status_code == 200
    off = client.post(
        "/account/",
        data={"off-csrf_token": csrf_token(client, "/account/"), "off-code": "123456"},
        follow_redirects=True,
    )
    assert "El despacho exige el segundo factor a sus clientes." in off.get_data(as_text=True)
