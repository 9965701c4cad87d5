"""People and spaces for the load: clients with their space and open request, and staff.

Tokens are issued by the accounts service directly (as a login would, without paying
argon2 two hundred times); web sessions are real logins through the app's login page, each
from its own address so that the login throttle is not what the load measures.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PASSWORD = "una-clave-de-prueba-2026"


def seed(app: Any, out: Path, *, clients: int = 40, staff: int = 3, web_sessions: int = 20) -> dict:
    from app.extensions import db
    from app.services import accounts, documents, requests
    from app.services import clients as client_service

    people: dict[str, Any] = {"clients": [], "staff": []}
    with app.app_context():
        admin = accounts.create_user(
            None, email="admin@despacho.es", name="Admin", role="admin", password=PASSWORD
        )
        staff_users = [
            accounts.create_user(
                None,
                email=f"gestor{n}@despacho.es",
                name=f"Gestor {n}",
                role="staff",
                password=PASSWORD,
            )
            for n in range(staff)
        ]
        db.session.flush()
        for n in range(clients):
            firm = client_service.create_client(admin, name=f"Cliente {n:03d} S.L.")
            user = accounts.create_user(
                None,
                email=f"cliente{n}@example.com",
                name=f"Cliente {n}",
                role="client",
                client_id=firm.id,
                password=PASSWORD,
            )
            space = client_service.create_space(
                admin, firm.id, name="Ejercicio 2026", kind="fiscal_year"
            )
            for member in staff_users:
                client_service.add_member(admin, space.id, user_id=member.id, permission="manage")
            client_service.add_member(admin, space.id, user_id=user.id, permission="contribute")
            first = documents.upload_document(
                staff_users[n % staff],
                space.id,
                io.BytesIO(b"%PDF-1.4 balance " + bytes(str(n), "ascii")),
                filename="balance.pdf",
                title="Balance",
            )
            request = requests.create_request(
                staff_users[n % staff],
                space.id,
                title="Renta 2026",
                due_date=date.today() + timedelta(days=20),
                items=[{"title": f"Documento {k}"} for k in range(6)],
                today=date.today(),
            )
            db.session.flush()
            token, _ = accounts.issue_api_token(user)
            people["clients"].append(
                {
                    "id": user.id,
                    "email": user.email,
                    "token": token,
                    "space_id": space.id,
                    "client_id": firm.id,
                    "document_id": first.id,
                    "item_ids": [item.id for item in request.items],
                }
            )
        for member in staff_users:
            token, _ = accounts.issue_api_token(member)
            people["staff"].append({"email": member.email, "token": token, "id": member.id})
        admin_token, _ = accounts.issue_api_token(admin)
        people["admin"] = {"email": admin.email, "token": admin_token}
        db.session.commit()
    for index, person in enumerate(people["clients"][:web_sessions] + people["staff"]):
        person["cookie"] = web_login(
            app, person["email"], f"10.77.{index // 250}.{index % 250 + 1}"
        )
    out.write_text(json.dumps(people))
    return people


def web_login(app: Any, email: str, address: str) -> str:
    """Log in through the login page as a browser would; the session cookie's value."""
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data)
    assert token, "no CSRF token on the login page"
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1).decode()},
        environ_base=environ,
    )
    assert answer.status_code in (302, 303), answer.status_code
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value
