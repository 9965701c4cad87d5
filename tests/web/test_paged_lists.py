"""The firm's long lists on the web a page at a time: the home page's spaces, clients and the
audit trail follow a "more" link (the same signed cursor as the API); an altered link leads
back to the first page, saying why."""

from __future__ import annotations

import html
import re

from portal_testing import web_login

NEXT_RE = re.compile(r'<a rel="next" href="([^"]+)"')
CLIENT_RE = re.compile(r'<a href="/clients/[0-9a-f]+">([^<]+)</a>')


def _next(page: str) -> str | None:
    found = NEXT_RE.search(page)
    return html.unescape(found.group(1)) if found else None


def test_the_client_list_and_the_audit_trail_go_on_page_by_page(client, world):
    from app.extensions import db
    from app.services import clients

    for n in range(110):
        clients.create_client(world.admin, name=f"Cliente {n:03d} S.L.")
    db.session.commit()
    expected = [c.name for c in clients.list_clients(world.admin)]
    assert len(expected) == 112

    web_login(client, world.admin)
    first = client.get("/clients/").get_data(as_text=True)
    shown = [html.unescape(name) for name in CLIENT_RE.findall(first)]
    assert len(shown) == 100
    more = _next(first)
    assert more and "cursor=" in more
    second = client.get(more).get_data(as_text=True)
    shown += [html.unescape(name) for name in CLIENT_RE.findall(second)]
    assert shown == expected
    assert _next(second) is None and "Volver al principio" in second

    altered = client.get(more[:-3] + "AAA", follow_redirects=True)
    assert altered.request.path == "/clients/"  # back to the first page, saying why
    page = altered.get_data(as_text=True)
    assert "pida la lista de nuevo desde el principio" in page
    assert [html.unescape(name) for name in CLIENT_RE.findall(page)] == expected[:100]

    # 110 clients made and a login: well over the audit page's 100 events.
    audit = client.get("/admin/audit").get_data(as_text=True)
    older = _next(audit)
    assert older and "cursor=" in older
    assert client.get(older).status_code == 200
    back = client.get("/admin/audit?cursor=nada", follow_redirects=True)
    assert back.request.path == "/admin/audit"
    assert "pida la lista de nuevo" in back.get_data(as_text=True)
    back = client.get("/notifications?cursor=nada", follow_redirects=True)
    assert back.request.path == "/notifications"


SPACE_RE = re.compile(r'<li><a href="/spaces/([0-9a-f]+)">')


def test_the_home_page_lists_spaces_a_page_at_a_time(client, world):
    from app.extensions import db
    from app.services import clients

    for n in range(55):
        clients.create_space(world.admin, world.firm_a.id, name=f"Obra {n:02d}")
    db.session.commit()
    expected = [s.id for s in clients.list_spaces(world.admin)]
    assert len(expected) == 57

    web_login(client, world.admin)
    first = client.get("/").get_data(as_text=True)
    assert SPACE_RE.findall(first) == expected[:50]
    assert "2 clientes" in first  # counted, not listed
    second = client.get(_next(first)).get_data(as_text=True)
    assert SPACE_RE.findall(second) == expected[50:]
    assert _next(second) is None and "Volver al principio" in second


RESULT_RE = re.compile(r'<li>\s*<a href="/documents/([0-9a-f]+)">')


def test_search_results_go_on_page_by_page_for_a_client(client, world):
    import io

    from app.extensions import db
    from app.services import documents, search

    made = []
    for n in range(55):
        document = documents.upload_document(
            world.staff,
            world.space_a.id,
            io.BytesIO(b"%PDF-1.4 texto"),
            filename="texto.pdf",
            title=f"Escrito {n:02d}",
        )
        search.index_document(document, body="Expediente Quintanilla " * (n % 5 + 1))
        made.append(document.id)
    search.index_document(world.internal, body="Expediente Quintanilla")  # not for the client
    db.session.commit()

    web_login(client, world.client_a)
    first = client.get("/search?q=quintanilla").get_data(as_text=True)
    shown = RESULT_RE.findall(first)
    assert len(shown) == 50
    more = _next(first)
    assert more and "cursor=" in more and "q=quintanilla" in more
    second = client.get(more).get_data(as_text=True)
    shown += RESULT_RE.findall(second)
    assert sorted(shown) == sorted(made)  # each once, and never the firm's internal memo
    assert _next(second) is None and "Volver a los mejores resultados" in second

    altered = client.get(more[:-3] + "AAA", follow_redirects=True)
    assert altered.request.path == "/search"
    page = altered.get_data(as_text=True)
    assert "pida la lista de nuevo desde el principio" in page
    assert RESULT_RE.findall(page) == shown[:50]


def _walk_web(client, first_url: str, link_re: re.Pattern[str]) -> tuple[list[str], list[str]]:
    """Every link ``link_re`` finds, following "more" links; and the pages' URLs."""
    shown: list[str] = []
    urls = [first_url]
    url: str | None = first_url
    while url is not None:
        answer = client.get(url)
        assert answer.status_code == 200, url
        page = answer.get_data(as_text=True)
        shown += link_re.findall(page)
        url = _next(page)
        if url is not None:
            urls.append(url)
        assert len(urls) < 20
    return shown, urls


def test_incidents_threads_and_onboardings_go_on_page_by_page(client, world):
    """The firm's queues of incidents and onboardings, and a space's conversations, 50 at a
    time with their filters kept on the "more" link."""
    from app.extensions import db
    from app.services import conversations, incidents, onboarding

    made_incidents = [
        incidents.create_incident(
            world.client_a,
            world.space_a.id,
            title=f"Incidencia {n:02d}",
            body="No carga",
            priority="high" if n % 2 else "normal",
        ).id
        for n in range(56)
    ]
    threads = [
        conversations.create_thread(
            world.client_a, world.space_a.id, subject=f"Duda {n:02d}", body="?"
        ).id
        for n in range(53)
    ]
    joining = [
        onboarding.start_onboarding(
            world.staff,
            email=f"alta{n}@example.com",
            name=f"Alta {n}",
            kind="person",
            services=["renta"],
        ).id
        for n in range(52)
    ]
    db.session.commit()
    web_login(client, world.staff)

    found, urls = _walk_web(
        client, "/incidents?priority=high", re.compile(r'href="/incidents/([0-9a-f]+)"')
    )
    assert sorted(found) == sorted(made_incidents[1::2])  # the 28 high ones, each once
    found, urls = _walk_web(client, "/incidents", re.compile(r'href="/incidents/([0-9a-f]+)"'))
    assert sorted(found) == sorted(made_incidents) and len(urls) == 2
    assert "Volver al principio" in client.get(urls[1]).get_data(as_text=True)

    # Each incident has its thread: the space's conversations are the 53 and the 56.
    found, urls = _walk_web(
        client,
        f"/spaces/{world.space_a.id}/threads",
        re.compile(r'href="/threads/([0-9a-f]+)"'),
    )
    assert len(found) == len(set(found)) == 53 + 56 and set(threads) <= set(found)
    assert len(urls) == 3

    found, urls = _walk_web(
        client, "/onboarding/?status=invited", re.compile(r'href="/onboarding/([0-9a-f]+)"')
    )
    assert sorted(found) == sorted(joining) and "status=invited" in urls[1]

    altered = client.get(urls[1].replace("cursor=", "cursor=AAA"), follow_redirects=True)
    assert altered.request.full_path == "/onboarding/?status=invited"
    assert "pida la lista de nuevo desde el principio" in altered.get_data(as_text=True)
    altered = client.get("/incidents?priority=high&cursor=nada", follow_redirects=True)
    assert altered.request.full_path.endswith("priority=high")


def test_the_inbox_goes_on_page_by_page_and_the_agenda_finds_an_old_unread_thread(client, world):
    from datetime import UTC, datetime, timedelta

    from app.extensions import db
    from app.services import conversations

    threads = [
        conversations.create_thread(
            world.staff, world.space_a.id, subject=f"Consulta {n:03d}", body="¿Nos envía esto?"
        )
        for n in range(120)
    ]
    long_ago = datetime.now(UTC) - timedelta(days=400)
    for n, thread in enumerate(threads):  # the first one written the longest ago
        thread.last_message_at = long_ago + timedelta(hours=n)
    db.session.commit()
    for thread in threads[1:]:  # the client reads all but the oldest
        conversations.open_thread(world.client_a, thread.id)
    db.session.commit()

    web_login(client, world.client_a)
    found, urls = _walk_web(client, "/threads", re.compile(r'href="/threads/([0-9a-f]+)"'))
    assert found == [t.id for t in reversed(threads)] and len(urls) == 3
    home = client.get("/").get_data(as_text=True)
    assert f"/threads/{threads[0].id}" in home  # unread, though 119 threads are newer


def test_what_is_late_goes_on_page_by_page_beside_the_notifications(client, world):
    from datetime import UTC, date, datetime, timedelta

    from app.extensions import db
    from app.services import alerts
    from app.services import requests as request_service

    for n in range(55):
        request_service.create_request(
            world.staff,
            world.space_a.id,
            title=f"Pedido {n:02d}",
            due_date=date.today() + timedelta(days=1 + n),
            items=[{"title": "Balance"}],
            today=date.today(),
        )
    db.session.commit()
    alerts.sweep(datetime.now(UTC) + timedelta(days=90))
    db.session.commit()
    expected = len(alerts.open_alerts_for(world.staff))
    assert expected >= 55

    web_login(client, world.staff)
    late_re = re.compile(r'<li class="late">')
    first = client.get("/notifications").get_data(as_text=True)
    assert len(late_re.findall(first)) == 50
    more = re.search(r'data-testid="more-alerts" href="([^"]+)"', first)
    assert more is not None
    second = client.get(html.unescape(more.group(1))).get_data(as_text=True)
    assert len(late_re.findall(second)) == expected - 50
    assert "Volver al principio" in second and 'data-testid="more-alerts"' not in second
    back = client.get("/notifications?alerts_cursor=nada", follow_redirects=True)
    assert back.request.path == "/notifications"
    assert "pida la lista de nuevo" in back.get_data(as_text=True)


def test_the_users_page_goes_on_page_by_page_in_a_few_queries(client, world, app):
    from sqlalchemy import event

    from app.extensions import db
    from app.models import User
    from app.services import accounts

    for n in range(130):
        accounts.create_user(
            world.admin,
            email=f"persona{n:03d}@cliente.example",
            name=f"Persona {n:03d}",
            role="client",
            client_id=world.firm_a.id if n % 2 else world.firm_b.id,
        )
    db.session.commit()
    everyone = db.session.query(User).count()

    web_login(client, world.admin)
    statements: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    email_re = re.compile(r'<span class="muted">([^<]+@[^<]+)</span>')
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        first = client.get("/admin/users").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(email_re.findall(first)) == 100
    assert len(statements) < 20, "a query per listed person"
    more = _next(first)
    assert more and "cursor=" in more
    second = client.get(more).get_data(as_text=True)
    shown = email_re.findall(first) + email_re.findall(second)
    assert len(shown) == len(set(shown)) == everyone


MESSAGE_RE = re.compile(r'<div class="body">([^<]*)</div>')
EARLIER_RE = re.compile(r'<a href="([^"]+)" rel="prev" data-testid="earlier-messages">')


def test_a_long_thread_opens_on_its_latest_messages_and_earlier_ones_come_on_demand(client, world):
    """A thread of 120 messages (and staff notes the client never sees) opens, like a
    messaging app, on its last 50, oldest first; "earlier messages" goes back 50 at a time
    without repeating or skipping one, even when a message arrives meanwhile; an altered
    link opens the thread again, saying why."""
    from datetime import UTC, datetime, timedelta

    from app.extensions import db
    from app.models import Message
    from app.services import conversations

    thread = conversations.create_thread(
        world.staff, world.space_a.id, subject="Renta de 2026", body="Mensaje 000"
    )
    for n in range(1, 120):
        author = world.client_a if n % 2 else world.staff
        conversations.post_message(author, thread.id, body=f"Mensaje {n:03d}")
        if n % 10 == 0:
            conversations.post_message(world.staff, thread.id, body=f"Nota {n:03d}", internal=True)
    db.session.flush()
    start = datetime.now(UTC) - timedelta(days=30)
    for n, message in enumerate(  # written over a month, in order
        db.session.query(Message).filter_by(thread_id=thread.id).order_by(Message.created_at)
    ):
        message.created_at = start + timedelta(minutes=n)
    db.session.commit()
    everything = [f"Mensaje {n:03d}" for n in range(120)]

    web_login(client, world.client_a)
    first = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert MESSAGE_RE.findall(first) == everything[70:]
    assert 'id="ultimo"' in first and "Nota" not in first
    earlier = html.unescape(EARLIER_RE.search(first).group(1))

    conversations.post_message(world.staff, thread.id, body="Mensaje nuevo")
    db.session.commit()
    second = client.get(earlier).get_data(as_text=True)
    assert MESSAGE_RE.findall(second) == everything[20:70]
    assert "Ver los últimos mensajes" in second and 'id="ultimo"' not in second
    third = client.get(html.unescape(EARLIER_RE.search(second).group(1))).get_data(as_text=True)
    assert MESSAGE_RE.findall(third) == everything[:20]
    assert EARLIER_RE.search(third) is None

    # the firm sees its notes in place, on the same pages
    firm = client.application.test_client()
    web_login(firm, world.staff)
    staff_view = firm.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Mensaje nuevo" in staff_view and "Nota 110" in staff_view

    altered = client.get(earlier[:-4] + "AAAA", follow_redirects=True)
    assert altered.status_code == 200 and altered.request.path == f"/threads/{thread.id}"
    page = altered.get_data(as_text=True)
    assert "no es válido" in page and MESSAGE_RE.findall(page)[-1] == "Mensaje nuevo"
    # a thread of another client stays out of reach, with or without a cursor
    other = conversations.create_thread(
        world.admin, world.space_b.id, subject="Otra", body="De otro cliente"
    )
    db.session.commit()
    assert client.get(f"/threads/{other.id}?antes={earlier.split('antes=')[1]}").status_code == 404
