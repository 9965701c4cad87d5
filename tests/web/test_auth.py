"""Logging in and out, second factor, throttling, reset and invitation links, CSRF, headers."""

from __future__ import annotations

import email
import re
import time
from pathlib import Path

import pyotp
from flask.sessions import SecureCookieSessionInterface
from portal_testing import PASSWORD, api_token, csrf_token, enable_mfa, make_user, web_login


def _session(web_app, client) -> dict:
    serializer = SecureCookieSessionInterface().get_signing_serializer(web_app)
    cookie = client.get_cookie(web_app.config["SESSION_COOKIE_NAME"])
    return serializer.loads(cookie.value) if cookie else {}


def _post_login(client, email_address: str, password: str):
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(client), "email": email_address, "password": password},
    )


def _outbox(app) -> list[email.message.Message]:
    from app.services import mail

    mail.deliver_pending()
    folder = Path(app.config["OUTBOX_DIR"])
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def _link(message: email.message.Message, path: str) -> str:
    text = message.get_payload()[0].get_payload(decode=True).decode()
    return re.search(rf"http://localhost(/{path}/[A-Za-z0-9_-]+)", text).group(1)


def test_unknown_and_known_emails_get_identical_answers(app, client):
    user = make_user("staff")
    wrong = _post_login(client, user.email, "not the password")
    unknown = _post_login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong) == strip(unknown).replace("nobody@example.com", user.email)
    assert "E-mail o contraseña incorrectos." in strip(wrong)


def test_account_locks_after_repeated_failures_for_known_and_unknown(app, client):
    user = make_user("staff")
    for _ in range(5):
        _post_login(client, user.email, "wrong")
        _post_login(client, "ghost@example.com", "wrong")
    locked = _post_login(client, user.email, PASSWORD)  # right password, but locked
    ghost = _post_login(client, "ghost@example.com", PASSWORD)
    assert locked.status_code == ghost.status_code == 401
    assert "Demasiados intentos" in locked.get_data(as_text=True)
    assert "Demasiados intentos" in ghost.get_data(as_text=True)
    api = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert api.status_code == 429


def test_login_issues_a_new_session_and_logout_really_ends_it(app, web_app, client):
    user = make_user("client", client_id=make_client().id)
    client.get("/login")
    before = _session(web_app, client)
    web_login(client, user)
    first = _session(web_app, client)
    assert first["_user_id"] and first.get("csrf_token") != before.get("csrf_token")
    assert client.get("/").status_code == 200
    stolen = client.get_cookie(web_app.config["SESSION_COOKIE_NAME"]).value

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302
    # replaying the old cookie after logout does not bring the session back
    client.set_cookie(web_app.config["SESSION_COOKIE_NAME"], stolen)
    assert client.get("/").status_code == 302

    web_login(client, user)
    assert _session(web_app, client)["_user_id"] != first["_user_id"]


def make_client():
    from app.extensions import db
    from app.services import clients

    admin = make_user("admin")
    firm = clients.create_client(admin, name="Cliente S.A.")
    db.session.commit()
    return firm


def test_password_change_ends_other_sessions(app, web_app, client):
    user = make_user("staff")
    other = web_app.test_client()
    web_login(client, user)
    web_login(other, user)
    response = client.post(
        "/account/",
        data={
            "pw-csrf_token": csrf_token(client, "/account/"),
            "pw-current_password": PASSWORD,
            "pw-password": "otra clave bien larga",
            "pw-confirm": "otra clave bien larga",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this browser continues
    assert other.get("/").status_code == 302  # the other one is logged out


def test_totp_enrolment_login_replay_and_recovery_codes(app, client):
    user = make_user("staff")
    headers = api_token(client, user)
    started = client.post("/api/v1/me/mfa/totp", headers=headers).get_json()
    assert started["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(started["secret"])
    bad = client.post("/api/v1/me/mfa/totp/confirm", headers=headers, json={"otp": "000000"})
    assert bad.status_code == 422
    code = totp.now()
    confirmed = client.post("/api/v1/me/mfa/totp/confirm", headers=headers, json={"otp": code})
    codes = confirmed.get_json()["recovery_codes"]
    assert len(codes) == 10
    assert client.get("/api/v1/me", headers=headers).get_json()["mfa_enabled"] is True

    needs = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert needs.status_code == 401 and needs.get_json()["mfa_required"] is True
    # the code used for enrolment cannot be replayed
    replay = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD, "otp": code}
    )
    assert replay.status_code == 401
    next_code = totp.at(time.time() + 30)
    ok = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD, "otp": next_code}
    )
    assert ok.status_code == 200
    again = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD, "otp": next_code}
    )
    assert again.status_code == 401

    recovery = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD, "otp": codes[0]}
    )
    assert recovery.status_code == 200
    reused = client.post(
        "/api/v1/auth/token", json={"email": user.email, "password": PASSWORD, "otp": codes[0]}
    )
    assert reused.status_code == 401


def test_web_login_asks_for_the_second_factor(app, client):
    user = make_user("staff")
    secret = enable_mfa(user)
    first = _post_login(client, user.email, PASSWORD)
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/mfa")
    assert client.get("/").status_code == 302  # not logged in yet
    wrong = client.post(
        "/login/mfa", data={"csrf_token": csrf_token(client, "/login/mfa"), "code": "123456"}
    )
    assert wrong.status_code == 401
    good = client.post(
        "/login/mfa",
        data={"csrf_token": csrf_token(client, "/login/mfa"), "code": pyotp.TOTP(secret).now()},
    )
    assert good.status_code == 302
    assert client.get("/").status_code == 200


def test_password_reset_link_is_single_use_and_keeps_the_second_factor(app, client):
    user = make_user("staff")
    secret = enable_mfa(user)
    answer_known = client.post(
        "/forgot", data={"csrf_token": csrf_token(client, "/forgot"), "email": user.email}
    )
    answer_unknown = client.post(
        "/forgot", data={"csrf_token": csrf_token(client, "/forgot"), "email": "x@y.es"}
    )
    assert answer_known.status_code == answer_unknown.status_code == 302
    messages = _outbox(app)
    assert len(messages) == 1 and messages[0]["To"] == user.email
    link = _link(messages[0], "reset")
    form = {"password": "nueva clave segura", "confirm": "nueva clave segura"}
    done = client.post(link, data={"csrf_token": csrf_token(client, link), **form})
    assert done.status_code == 302
    assert client.get(link).status_code == 404  # single use
    # the new password alone does not log in: the second factor is still asked for
    step = _post_login(client, user.email, "nueva clave segura")
    assert step.status_code == 302 and step.headers["Location"].endswith("/login/mfa")
    assert pyotp.TOTP(secret)  # still enrolled


def test_expired_reset_link_is_refused(app, client):
    from datetime import UTC, datetime, timedelta

    import time_machine

    user = make_user("client", client_id=make_client().id)
    client.post("/forgot", data={"csrf_token": csrf_token(client, "/forgot"), "email": user.email})
    link = _link(_outbox(app)[-1], "reset")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        assert client.get(link).status_code == 404


def test_invitation_lets_a_client_user_choose_a_password(app, client):
    from app.extensions import db
    from app.services import accounts

    firm = make_client()
    staff = make_user("staff")
    invited = accounts.create_user(
        staff, email="ana@cliente.es", name="Ana", role="client", client_id=firm.id
    )
    db.session.commit()
    message = [m for m in _outbox(app) if m["To"] == "ana@cliente.es"][0]
    assert "invita" in message["Subject"]
    link = _link(message, "invitation")
    page = client.get(link)
    assert "Ana" in page.get_data(as_text=True)
    client.post(
        link,
        data={
            "csrf_token": csrf_token(client, link),
            "password": "mi clave de cliente",
            "confirm": "mi clave de cliente",
        },
    )
    logged = _post_login(client, invited.email, "mi clave de cliente")
    assert logged.status_code == 302
    assert client.get(link).status_code == 404


def test_forms_without_csrf_token_are_refused_and_change_nothing(app, client):
    from sqlalchemy import func, select

    from app.models import Client

    user = make_user("admin")
    web_login(client, user)
    response = client.post("/clients/", data={"name": "Sin token S.L.", "kind": "company"})
    assert response.status_code == 400
    from app.extensions import db

    assert db.session.execute(select(func.count(Client.id))).scalar_one() == 0


def test_security_headers_and_cookie_flags(app, web_app, client):
    response = client.get("/login")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in headers  # plain HTTP on loopback
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    tls = client.get("/login", base_url="https://portal.example")
    assert tls.headers["Strict-Transport-Security"].startswith("max-age=")


def test_secure_cookies_when_served_over_https(tmp_path, database_url, monkeypatch):
    from portal_testing import make_app

    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example")
    secure_app = make_app(tmp_path, database_url, BASE_URL="https://portal.example")
    assert secure_app.config["SESSION_COOKIE_SECURE"] is True
    response = secure_app.test_client().get("/login", base_url="https://portal.example")
    assert "Secure" in response.headers["Set-Cookie"]


def test_staff_must_enrol_when_the_firm_requires_it(app, client):
    from app.extensions import db
    from app.services.settings import update_setting

    admin = make_user("admin")
    update_setting(admin, "require_mfa_for_staff", True)
    db.session.commit()
    staff = make_user("staff")
    web_login(client, staff)
    response = client.get("/clients/")
    assert response.status_code == 302 and "/account/mfa" in response.headers["Location"]
    setup = client.get("/account/mfa").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', setup).group(1)
    done = client.post(
        "/account/mfa",
        data={"csrf_token": csrf_token(client, "/account/mfa"), "code": pyotp.TOTP(secret).now()},
    )
    assert "recovery-codes" in done.get_data(as_text=True)
    assert client.get("/clients/").status_code == 200
