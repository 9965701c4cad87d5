"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import Rule


class BuildersOnceRule(Rule):
    """A URL rule parsed, and its two URL-building functions compiled, once per process.

    werkzeug parses each rule (a regular expression per part, a converter per variable) and
    compiles its builders (Python source made and ``compile()``d) for every rule of every app
    made; the portal has some two hundred rules and the tests make two apps per test, and that
    was most of each test's set-up (240 access-matrix tests: 82 s, 41 s without compiling the
    builders, about a quarter less again without parsing). A rule's parts, its trace and which
    converters its variables use depend only on its text and on the map's converter classes,
    so rules of the same text share them; each rule still gets converters of its own map.
    The builders depend only on the parsed parts (and take the rule as their first argument).
    A rule with defaults (converted with its own converters when compiled) is compiled as
    werkzeug does. Production makes one app per process and keeps werkzeug's own rule;
    tests/web/test_url_building.py checks that both build and match the same URLs for every
    route.
    """

    _builders: ClassVar[dict[tuple[Any, ...], Any]] = {}
    _parsed: ClassVar[dict[tuple[Any, ...], Any]] = {}
    _asked: list[tuple[str, str, tuple[Any, ...], Any]] | None = None

    def _compile_builder(self, append_unknown: bool = True) -> Any:
        if self.defaults:
            return super()._compile_builder(append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder

    def get_converter(self, variable_name: str, converter_name: str, args: Any, kwargs: Any) -> Any:
        if self._asked is not None:
            self._asked.append((variable_name, converter_name, args, dict(kwargs)))
        return super().get_converter(variable_name, converter_name, args, kwargs)

    def _parse_rule(self, rule: str) -> Any:
        assert self.map is not None
        key = (rule, tuple(sorted(self.map.converters.items())))
        parsed = self._parsed.get(key)
        if parsed is None:
            traced, self._asked = len(self._trace), []
            try:
                parts = list(super()._parse_rule(rule))
            finally:
                asked, self._asked = self._asked, None
            parsed = self._parsed[key] = (parts, self._trace[traced:], asked)
            return parts
        parts, trace, asked = parsed
        self._trace.extend(trace)
        for variable, converter, args, kwargs in asked:
            self._converters[variable] = super().get_converter(variable, converter, args, kwargs)
            self.arguments.add(variable)
        return parts


Flask.url_rule_class = BuildersOnceRule

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
BACKEND = os.environ.get("PORTAL_TEST_BACKEND", "sqlite")
PASSWORD = "correct horse battery"


def _migrate(url: str) -> None:
    from app import create_app
    from app.cli import upgrade_database

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "DATA_DIR": "/nonexistent-unused", "SECRET_KEY": "x"}
    )
    upgrade_database(app)


def _pg_url_for_worker(url: str, suffix: str = "") -> str:
    """One PostgreSQL database per xdist worker, so parallel workers never truncate each other."""
    from sqlalchemy.engine import make_url

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker and not suffix:
        return url
    parsed = make_url(url)
    name = "_".join(part for part in (parsed.database, worker, suffix) if part)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def migrated_postgres(suffix: str = "") -> str:
    """A PostgreSQL database of this worker (plus a suffix), emptied and migrated."""
    url = _pg_url_for_worker(PG_URL or "", suffix)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(url)
    return url


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once with Alembic; tests then start from a copy (SQLite) or truncation (PostgreSQL)."""
    from app.cli import compile_translations

    compile_translations()
    if BACKEND == "postgres":
        if not PG_URL:
            pytest.fail("PORTAL_TEST_BACKEND=postgres needs PORTAL_TEST_DATABASE_URL")
        return migrated_postgres()
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    _migrate(f"sqlite:///{path}")
    return str(path)


_CLEANERS: dict[str, Any] = {}


def _truncate(url: str) -> None:
    """Empty every table between tests (the schema stays).

    DELETE with foreign-key triggers off takes ~2 ms for the few rows a test leaves;
    TRUNCATE of the ~40 tables took 0.1-1 s each time (new files, fsync), which was most of
    the PostgreSQL pass. One engine per database for the whole session. Without the
    superuser right to switch the triggers off, TRUNCATE as before.
    """
    engine = _CLEANERS.get(url)
    if engine is None:
        engine = _CLEANERS[url] = create_engine(url, pool_size=1)
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename<>'alembic_version'"
                )
            )
        ]
        if not tables:
            return
        try:
            with conn.begin_nested():
                conn.execute(text("SET LOCAL session_replication_role = replica"))
        except DBAPIError:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
            return
        conn.execute(text("; ".join(f'DELETE FROM "{t}"' for t in tables)))  # noqa: S608 - catalogue names


def fresh_database(tmp_path: Path, database_template: str) -> str:
    if BACKEND == "postgres":
        _truncate(database_template)
        return database_template
    db_path = tmp_path / "portal.sqlite"
    shutil.copy(database_template, db_path)
    return f"sqlite:///{db_path}"


def make_app(tmp_path: Path, url: str, **overrides: Any) -> Flask:
    from app import create_app
    from app.extensions import celery

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATA_DIR": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": url,
        "STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://localhost",
    }
    config.update(overrides)
    app = create_app(config)

    def run_inline(name: str, *args: Any) -> None:
        celery.tasks[name].apply(args=list(args))

    app.extensions["portal_job_runner"] = run_inline
    return app


@pytest.fixture
def database_url(tmp_path: Path, database_template: str) -> str:
    return fresh_database(tmp_path, database_template)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """The app whose context the test itself runs in (factories, service calls)."""
    application = make_app(tmp_path, database_url)
    with application.app_context():
        yield application
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def web_app_config() -> dict[str, Any]:
    """Settings of ``web_app``; a test module overrides this fixture (or a test parametrizes
    it) to change them."""
    return {}


@pytest.fixture
def web_app(
    tmp_path: Path, database_url: str, app: Flask, web_app_config: dict[str, Any]
) -> Iterator[Flask]:
    """A second app on the same database and blobs for HTTP requests.

    Requests then get their own app context, ``g`` and database session, as in
    production, instead of sharing the test's.
    """
    application = make_app(tmp_path, database_url, **web_app_config)
    yield application
    with application.app_context():
        from app.extensions import db

        db.engine.dispose()


@pytest.fixture
def client(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


# ------------------------------------------------------------------ factories


@dataclass
class World:
    """Two clients, their spaces and people, a shared and an internal document."""

    admin: Any
    staff: Any
    outsider: Any
    client_a: Any
    client_b: Any
    firm_a: Any
    firm_b: Any
    space_a: Any
    space_b: Any
    shared: Any
    internal: Any
    other_doc: Any
    comment_shared: Any = None
    comment_internal: Any = None
    transmittal: Any = None
    request: Any = None


def make_user(
    role: str, *, client_id: str | None = None, email: str | None = None, name: str | None = None
) -> Any:
    from app.extensions import db
    from app.services import accounts

    count = make_user.counter = getattr(make_user, "counter", 0) + 1  # type: ignore[attr-defined]
    user = accounts.create_user(
        None,
        email=email or f"{role}{count}@example.com",
        name=name or f"{role.title()} {count}",
        role=role,
        client_id=client_id,
        password=PASSWORD,
    )
    db.session.commit()
    return user


def enable_mfa(user: Any) -> str:
    """Turn TOTP on for a user; return its secret."""
    from app.extensions import db

    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_last_counter = None
    db.session.commit()
    return secret


def build_world() -> World:
    """Build the two-client world; the e-mails it would send are dropped."""
    from flask import current_app

    runner = current_app.extensions.get("portal_job_runner")
    current_app.extensions["portal_job_runner"] = lambda name, *args: None
    try:
        return _build_world()
    finally:
        current_app.extensions["portal_job_runner"] = runner


def _build_world() -> World:
    from app.extensions import db
    from app.services import clients, documents

    admin = make_user("admin")
    staff = make_user("staff")
    outsider = make_user("staff")
    firm_a = clients.create_client(admin, name="Petrolera del Norte S.A.")
    firm_b = clients.create_client(admin, name="Ferretería Ruiz S.L.")
    client_a = make_user("client", client_id=firm_a.id)
    client_b = make_user("client", client_id=firm_b.id)
    space_a = clients.create_space(admin, firm_a.id, name="Litigio 2026/114", kind="case")
    space_b = clients.create_space(admin, firm_b.id, name="Ejercicio 2025", kind="fiscal_year")
    clients.add_member(admin, space_a.id, user_id=staff.id, permission="manage")
    clients.add_member(admin, space_a.id, user_id=client_a.id, permission="contribute")
    clients.add_member(admin, space_b.id, user_id=client_b.id, permission="contribute")
    shared = documents.upload_document(
        staff,
        space_a.id,
        io.BytesIO(b"%PDF-1.4 contrato v1"),
        filename="contrato.pdf",
        title="Contrato",
    )
    internal = documents.upload_document(
        staff,
        space_a.id,
        io.BytesIO(b"memo interno"),
        filename="memo.txt",
        title="Memo",
        visibility="internal",
    )
    other_doc = documents.upload_document(
        client_b, space_b.id, io.BytesIO(b"factura B"), filename="factura.pdf", title="Factura B"
    )
    from app.services import review, transmittals

    comment_shared = review.add_comment(staff, shared.id, body="Revise la cláusula 2")
    comment_internal = review.add_comment(staff, internal.id, body="Nota interna")
    transmittal = transmittals.create_transmittal(
        staff,
        space_a.id,
        document_ids=[shared.id],
        recipient_ids=[client_a.id],
        due_date=None,
        message="Para revisar",
    )
    from datetime import date, timedelta

    from app.services import requests

    request = requests.create_request(
        staff,
        space_a.id,
        title="Renta 2025",
        due_date=date.today() + timedelta(days=30),
        items=[{"title": "DNI"}, {"title": "Certificado de retenciones"}],
        today=date.today(),
    )
    requests.upload_to_item(
        client_a, request.items[1].id, io.BytesIO(b"%PDF ret"), filename="retenciones.pdf"
    )
    db.session.commit()
    return World(
        admin,
        staff,
        outsider,
        client_a,
        client_b,
        firm_a,
        firm_b,
        space_a,
        space_b,
        shared,
        internal,
        other_doc,
        comment_shared,
        comment_internal,
        transmittal,
        request,
    )


@pytest.fixture
def world(app: Flask) -> World:
    return build_world()


def api_token(client: FlaskClient, user: Any, otp: str | None = None) -> dict[str, str]:
    body: dict[str, Any] = {"email": user.email, "password": PASSWORD}
    if otp:
        body["otp"] = otp
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def web_login(client: FlaskClient, user: Any, otp_secret: str | None = None) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
    )
    if otp_secret:
        assert response.status_code == 302 and "/login/mfa" in response.headers["Location"]
        token = csrf_token(client, "/login/mfa")
        response = client.post(
            "/login/mfa", data={"csrf_token": token, "code": pyotp.TOTP(otp_secret).now()}
        )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


@contextmanager
def counted_queries(web_app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app sends to its database within the block."""
    from app.extensions import db

    with web_app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def pdf_bytes(text_content: str = "Hola") -> bytes:
    from app.services.demo import pdf

    return pdf(text_content)


def file_upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return (io.BytesIO(data), name)


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> Iterator[None]:
    """Cheap argon2 parameters in tests; production keeps argon2-cffi's defaults."""
    from argon2 import PasswordHasher

    from app.services.accounts import passwords

    saved = passwords._hasher, passwords._DUMMY_HASH
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._DUMMY_HASH = passwords._hasher.hash("dummy")
    yield
    passwords._hasher, passwords._DUMMY_HASH = saved


# ------------------------------------------------------------------ browser

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server_config() -> dict[str, Any]:
    """Settings of the live server's app; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def live_server(tmp_path, database_url, app, live_server_config) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web = make_app(tmp_path, database_url, **{"BASE_URL": base, **live_server_config})
    with serve(web, port):
        yield base


@contextmanager
def serve(wsgi_app: Any, port: int) -> Iterator[None]:
    """Serve `wsgi_app` with waitress on 127.0.0.1:`port` in a thread until the block ends.

    On the way out, requests still being answered are finished first (the loop keeps
    running for them), then the loop stops, and only then are its sockets and wake-up
    pipe closed. waitress's own ``server.close()`` closes the pipe under running tasks:
    a task finishing later writes its wake-up byte to the pipe's old descriptor number,
    which the next test may by then have given to its SQLite file ("file is not a
    database").
    """
    from waitress import wasyncore
    from waitress.server import create_server

    server = create_server(wsgi_app, host="127.0.0.1", port=port, threads=4)
    stopping = threading.Event()

    def run() -> None:
        while not stopping.is_set():
            wasyncore.loop(
                timeout=0.05, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1
            )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.task_dispatcher.shutdown(timeout=30)
        running = len(server.task_dispatcher.threads)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
            getattr(channel, "total_outbufs_len", 0) for channel in list(server._map.values())
        ):
            time.sleep(0.01)  # the loop still sends what the last answers left
        # A task still running after that must not reach the pipe once it is closed.
        server.pull_trigger = lambda: None
        stopping.set()
        thread.join(timeout=10)
        wasyncore.close_all(server._map)
        if running or thread.is_alive():
            raise RuntimeError("the live server did not stop: a request was still being answered")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM} (make installs Debian's chromium)")
        pytest.skip(f"Chromium not found at {CHROMIUM}; set PORTAL_TEST_CHROMIUM")
    # Module scope: Playwright's sync API keeps an event loop running, which
    # would break later tests that call asyncio.run() (pyHanko does).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def open_menu(page: Any) -> None:
    """Unfold the header's menu where a phone shows it folded behind its "Menú" button."""
    menu = page.get_by_role("button", name="Menú")
    if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
        menu.click()
