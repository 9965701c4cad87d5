"""One commit per request: what a request changed is stored when it succeeds, and only then.

Each check reads the database through a connection of its own, as the next request or another
web worker would, never through the session of the request that wrote.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask, redirect
from portal_testing import CSRF_RE, csrf_token, web_login
from sqlalchemy import create_engine, text

from app.services.errors import ValidationFailed


@pytest.fixture
def stored(database_url: str):
    """Run a query on the database from outside the web app: what anyone else would see."""
    engine = create_engine(database_url)

    def query(sql: str, **params: object) -> list[tuple]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    yield query
    engine.dispose()


def _templates(stored, key: str) -> list[tuple]:
    return stored("SELECT name FROM request_template WHERE key = :key", key=key)


@pytest.fixture
def probe(web_app: Flask):
    """Views made for these checks: each writes a checklist template, then answers its way."""
    from app.extensions import db
    from app.models import RequestTemplate
    from app.services.runtime import enqueue_after_commit
    from app.unit_of_work import discard_changes, keep_on_error

    sent: list[tuple[str, tuple]] = []
    web_app.extensions["portal_job_runner"] = lambda name, *args: sent.append((name, args))

    def write(key: str, flush: bool = True) -> None:
        db.session.add(RequestTemplate(key=key, name=f"Plantilla {key}", items=[]))
        if flush:
            db.session.flush()

    def stored_then_ok(key: str):  # type: ignore[no-untyped-def]
        write(key)
        enqueue_after_commit("portal.probe", key)
        return "ok", 201

    def flushed_then_refused(key: str):  # type: ignore[no-untyped-def]
        write(key)
        enqueue_after_commit("portal.probe", key)
        raise ValidationFailed({"name": "No."})

    def flushed_then_crashed(key: str):  # type: ignore[no-untyped-def]
        write(key)
        raise RuntimeError("a bug after the write")

    def refused_but_kept(key: str):  # type: ignore[no-untyped-def]
        write(key)
        keep_on_error()
        return "refused", 401

    def refused_then_redirected(key: str):  # type: ignore[no-untyped-def]
        write(key)
        discard_changes()
        return redirect("/")

    def written_twice(key: str):  # type: ignore[no-untyped-def]
        write(key, flush=False)  # the unique key clashes only when the answer commits
        return "ok", 200

    def connection_lost_before_the_commit(key: str):  # type: ignore[no-untyped-def]
        # PostgreSQL restarted between the write and the commit: its server process for this
        # session is ended from outside, as a restart ends it.
        write(key)
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        killer = create_engine(db.engine.url)
        with killer.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        return "ok", 201

    for view in (
        stored_then_ok,
        flushed_then_refused,
        flushed_then_crashed,
        refused_but_kept,
        refused_then_redirected,
        written_twice,
        connection_lost_before_the_commit,
    ):
        web_app.add_url_rule(f"/_probe/{view.__name__}/<key>", view.__name__, view)
    web_app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash answers 500, as in production
    return sent


def test_a_successful_answer_is_stored_and_its_jobs_go_out_after(client, probe, stored):
    response = client.get("/_probe/stored_then_ok/alpha")
    assert response.status_code == 201
    assert _templates(stored, "alpha") == [("Plantilla alpha",)]
    assert probe == [("portal.probe", ("alpha",))]


def test_a_refusal_after_a_flush_leaves_nothing_and_sends_nothing(client, probe, stored):
    response = client.get("/_probe/flushed_then_refused/beta")
    assert response.status_code == 422
    assert _templates(stored, "beta") == []
    assert probe == []


def test_a_crash_after_a_write_leaves_nothing(client, probe, stored):
    assert client.get("/_probe/flushed_then_crashed/gamma").status_code == 500
    assert _templates(stored, "gamma") == []


def test_a_refusal_that_must_count_is_stored(client, probe, stored):
    assert client.get("/_probe/refused_but_kept/delta").status_code == 401
    assert _templates(stored, "delta") == [("Plantilla delta",)]


def test_a_refusal_answered_with_a_redirect_leaves_nothing(client, probe, stored):
    assert client.get("/_probe/refused_then_redirected/epsilon").status_code == 302
    assert _templates(stored, "epsilon") == []


def test_a_commit_that_fails_is_an_error_answer_not_a_success(client, probe, stored, app):
    from app.extensions import db
    from app.models import RequestTemplate

    db.session.add(RequestTemplate(key="zeta", name="La primera", items=[]))
    db.session.commit()
    response = client.get("/_probe/written_twice/zeta")
    assert response.status_code == 409
    assert "Algo ha fallado" in response.get_data(as_text=True)
    assert _templates(stored, "zeta") == [("La primera",)]


def test_a_failed_login_is_refused_and_its_audit_event_kept(client, world, stored):
    token = csrf_token(client)
    response = client.post(
        "/login", data={"csrf_token": token, "email": world.staff.email, "password": "wrong"}
    )
    assert response.status_code == 401
    assert stored("SELECT count(*) FROM audit_event WHERE action = 'login_failed'") == [(1,)]
    assert stored("SELECT count(*) FROM user_session") == [(0,)]

    web_login(client, world.staff)  # the right password still works, and its session is stored
    assert stored("SELECT count(*) FROM user_session") == [(1,)]


def test_a_saved_change_is_seen_by_everyone_else_at_once(client, world, stored):
    web_login(client, world.staff)
    page = client.get(f"/documents/{world.shared.id}").get_data(as_text=True)
    response = client.post(
        f"/documents/{world.shared.id}/rename",
        data={"csrf_token": CSRF_RE.search(page).group(1), "title": "Arras Villaverde"},
    )
    assert response.status_code == 302
    assert stored("SELECT title FROM document WHERE id = :id", id=world.shared.id) == [
        ("Arras Villaverde",)
    ]


def test_a_page_that_only_shows_writes_nothing(client, world, stored):
    """The new-request page lists the shipped checklists without storing them."""
    web_login(client, world.staff)
    before = stored("SELECT count(*) FROM request_template")
    page = client.get(f"/spaces/{world.space_a.id}/requests/new")
    assert page.status_code == 200
    assert "Impuesto de sociedades y cuentas anuales" in page.get_data(as_text=True)
    assert stored("SELECT count(*) FROM request_template") == before


@pytest.fixture
def payslip_form(app, world):
    """A payslip form read from a document, waiting for the client to check it."""
    from app.extensions import db
    from app.models import FormSubmission

    def read(value: str) -> dict:
        return {"value": value, "confidence": 92.0, "page": 1, "box": [1, 1, 2, 2]}

    form = FormSubmission(
        template="datos_nomina",
        space_id=world.space_a.id,
        document_id=world.shared.id,
        version_id=world.shared.current_version.id,
        fields={"net": read("1.234,56"), "worker_nif": read("12345678Z")},
        status="draft",
        created_by_id=world.client_a.id,
    )
    db.session.add(form)
    db.session.commit()
    return form


def test_a_refused_form_save_keeps_what_was_typed(client, world, payslip_form, stored):
    web_login(client, world.client_a)
    url = f"/forms/{payslip_form.id}"
    token = CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)
    too_long = "Calle Mayor " * 50
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "field-net": "2.000,00",
            "field-worker_nif": "87654321X",
            "field-employer": too_long,
            "confirm": "1",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # every value as the person typed it, not as stored
    assert 'value="2.000,00"' in page and 'value="1.234,56"' not in page
    assert 'value="87654321X"' in page and 'value="12345678Z"' not in page
    assert f'value="{too_long}"' in page
    # the message next to the field it is about
    assert 'aria-describedby="field-employer-error"' in page
    assert 'id="field-employer-error">El valor es demasiado largo.' in page
    # and nothing of it stored
    ((status, fields),) = stored(
        "SELECT status, fields FROM form_submission WHERE id = :id", id=payslip_form.id
    )
    kept = fields if isinstance(fields, str) else json.dumps(fields)  # PostgreSQL reads JSON
    assert status == "draft" and "2.000,00" not in kept and "87654321X" not in kept


def test_a_database_lost_before_the_commit_answers_try_again_and_stores_nothing(
    client, probe, stored, app
):
    from app.extensions import db

    if db.engine.url.get_backend_name() != "postgresql":
        pytest.skip("SQLite has no server whose connection can be lost")
    for attempt in ("eta", "theta"):  # and the next request finds a working connection
        response = client.get(f"/_probe/connection_lost_before_the_commit/{attempt}")
        assert response.status_code == 503
        assert response.headers.get("Retry-After")
        assert "No se ha guardado nada" in response.get_data(as_text=True)
        assert _templates(stored, attempt) == []
    assert client.get("/_probe/stored_then_ok/iota").status_code == 201
    assert _templates(stored, "iota") == [("Plantilla iota",)]
