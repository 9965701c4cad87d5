"""Overview, waiting list, bell and transmittal pages as staff and clients see them."""

from __future__ import annotations

import io
import re

from portal_testing import csrf_token, pdf_bytes, web_login


def _counts(html: str) -> dict[str, int]:
    return {
        label: int(value)
        for label, value in re.findall(
            r'<progress max="\d+" value="(\d+)" aria-label="([^"]+)"', html
        )[::1]
        for label, value in [(value, label)]
    }


def test_staff_overview_counts_states_and_filters_by_client(app, client, world):
    from app.extensions import db
    from app.services import documents, review

    plan = documents.upload_document(
        world.staff, world.space_a.id, io.BytesIO(pdf_bytes("p")), filename="p.pdf", title="Plano"
    )
    db.session.commit()
    review.review_document(world.client_a, plan.id, "validate")
    db.session.commit()
    web_login(client, world.admin)
    html = client.get("/overview").get_data(as_text=True)
    counts = _counts(html)
    assert counts["Validado"] == 1
    assert counts["Recibido"] >= 3  # contract, memo, the other client's invoice, the request upload
    assert "Petrolera del Norte S.A." in html and "Ferretería Ruiz S.L." in html
    only_b = client.get(f"/overview?client={world.firm_b.id}").get_data(as_text=True)
    assert "Ferretería Ruiz S.L." in only_b and "Litigio 2026/114" not in only_b
    validated_only = _counts(client.get("/overview?state=validated").get_data(as_text=True))
    assert validated_only["Validado"] == 1 and validated_only["Recibido"] == 0


def test_client_sees_what_waits_for_them_and_the_bell(app, client, world):
    web_login(client, world.client_a)
    waiting = client.get("/overview").get_data(as_text=True)
    assert "Contrato" in waiting and "Memo" not in waiting
    home = client.get("/").get_data(as_text=True)
    bell = re.search(r'data-testid="unread-count">(\d+)<', home)
    assert bell and int(bell.group(1)) >= 1
    page = client.get("/notifications").get_data(as_text=True)
    assert "Remisión" in page and "Memo" not in page and "Nota interna" not in page
    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications")})
    assert 'data-testid="unread-count"' not in client.get("/").get_data(as_text=True)


def test_transmittal_page_shows_who_downloaded(app, client, world):
    web_login(client, world.client_a)
    client.get(f"/documents/{world.shared.id}/versions/1/download")
    client.get("/logout")
    other = client.application.test_client()
    web_login(other, world.staff)
    page = other.get(f"/transmittals/{world.transmittal.id}").get_data(as_text=True)
    assert "Descargado" in page and world.client_a.name in page
    assert "Leído" in page  # the client's download marked the version read

    from app.extensions import db
    from app.services import clients

    clients.update_space(world.admin, world.transmittal.space_id, label_scheme="iso19650")
    db.session.commit()
    page = other.get(f"/transmittals/{world.transmittal.id}").get_data(as_text=True)
    assert "En revisión" in page and "Leído" not in page  # as an ISO 19650 space words it


def test_history_shows_the_answer_as_the_space_words_it(app, client, world):
    """A Procore-style answer reads «Revisar y reenviar» in the history, never its code."""
    from app.extensions import db
    from app.services import accounts, clients

    clients.update_space(world.admin, world.space_a.id, label_scheme="procore")
    db.session.commit()
    web_login(client, world.client_a)
    page = f"/documents/{world.shared.id}"
    response = client.post(
        f"{page}/review",
        data={
            "csrf_token": csrf_token(client, page),
            "label": "revise_and_resubmit",
            "comment": "Acoten el muro",
        },
    )
    assert response.status_code == 302
    history = re.search(
        r'<ol class="history">(.*?)</ol>', client.get(page).get_data(as_text=True), re.S
    )
    assert history and "(Revisar y reenviar)" in history.group(1)
    assert "revise_and_resubmit" not in history.group(1)
    # The states too read as the space words them: "Devuelto", not "Cambios solicitados".
    assert "Devuelto" in history.group(1) and "Cambios solicitados" not in history.group(1)
    versions = re.search(r"<table.*?</table>", client.get(page).get_data(as_text=True), re.S)
    assert versions and "Devuelto" in versions.group(0)
    listing = client.get(f"/spaces/{world.space_a.id}").get_data(as_text=True)
    assert "Devuelto" in listing and "Cambios solicitados" not in listing
    accounts.set_locale(world.client_a, "en")
    db.session.commit()
    history = re.search(
        r'<ol class="history">(.*?)</ol>', client.get(page).get_data(as_text=True), re.S
    )
    assert history and "(Revise and resubmit)" in history.group(1)
    assert "Returned" in history.group(1) and "Changes requested" not in history.group(1)
