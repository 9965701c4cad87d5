"""The ``portal`` command (docs/api.md, "Command line"): init, create-user, run, worker, beat, demo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
from flask import Flask

from app import ROOT, create_app, server
from app.extensions import db


def _app() -> Flask:
    return create_app()


def upgrade_database(app: Flask) -> None:
    """Create or upgrade the schema with Alembic (safe to run again)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ROOT / "app" / "migrations"))
    config.set_main_option(
        "sqlalchemy.url", app.config["SQLALCHEMY_DATABASE_URI"].replace("%", "%%")
    )
    with app.app_context():
        config.attributes["connection_url"] = app.config["SQLALCHEMY_DATABASE_URI"]
        command.upgrade(config, "head")


def compile_translations() -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (ROOT / "app" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with open(po_path, "rb") as handle:
            catalog = read_po(handle)
        with open(mo_path, "wb") as handle:
            write_mo(handle, catalog)


@click.group()
def main() -> None:
    """Document exchange and e-signature portal."""


@main.command()
def init() -> None:
    """Create or upgrade the database, the blob store and the keys; safe to run again."""
    compile_translations()
    app = _app()
    data = Path(app.config["DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    Path(app.config["OUTBOX_DIR"]).mkdir(parents=True, exist_ok=True)
    upgrade_database(app)
    with app.app_context():
        from app.services.requests import ensure_templates

        ensure_templates()
        db.session.commit()
    click.echo(f"Base de datos lista: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    click.echo(f"Almacén de archivos: {app.config['STORAGE_URL'].split('@')[-1]}")
    from app.services.pki import init_pki

    with app.app_context():
        pki = init_pki()
    click.echo(f"Autoridad de certificación y de sellado de tiempo: {pki.directory}")


@main.command("compress-assets")
def compress_assets() -> None:
    """Write brotli and gzip copies of the static files (build time: make assets, the image)."""
    from app.static_assets import compress_assets as compress

    written = compress(ROOT / "app" / "static")
    click.echo(f"{len(written)} archivos comprimidos")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["admin", "staff", "client"]), required=True)
@click.option("--client-id", default=None)
@click.option("--password", default=None, help="Without it an invitation e-mail is queued.")
def create_user(
    email: str, name: str, role: str, client_id: str | None, password: str | None
) -> None:
    """Create a user and print its id."""
    from app.services import accounts
    from app.services.errors import ValidationFailed

    app = _app()
    with app.app_context():
        try:
            user = accounts.create_user(
                None, email=email, name=name, role=role, client_id=client_id, password=password
            )
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                click.echo(f"{field}: {message}", err=True)
            sys.exit(2)
        db.session.commit()
        click.echo(user.id)


def ensure_first_admin(app: Flask) -> tuple[str, str] | None:
    """On an empty portal, create the first admin with a random password (printed once)."""
    import secrets

    from sqlalchemy import func, select

    from app.models import User
    from app.services import accounts

    with app.app_context():
        if db.session.execute(select(func.count(User.id))).scalar_one():
            return None
        email = os.environ.get("PORTAL_ADMIN_EMAIL", "admin@portal.local")
        password = os.environ.get("PORTAL_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        accounts.create_user(
            None, email=email, name="Administrador", role="admin", password=password
        )
        db.session.commit()
        credentials = Path(app.config["DATA_DIR"]) / "first-admin.txt"
        fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"email: {email}\npassword: {password}\n")
        return email, password


class Children:
    """The worker, beat and mail receiver of ``portal run``, started again when one stops.

    As compose's restart policy does for the services of a production set-up: a worker that
    exits on its own (a broker error it gave up on, a crash, the kernel's OOM killer) would
    otherwise leave the portal answering pages while no e-mail, OCR or signing job ever ran
    again. One that keeps exiting right after its start is started at most every
    ``RESTART_BACKOFF`` seconds, with each exit logged. Nothing is started again once the
    server is stopping.
    """

    RESTART_BACKOFF = 30.0
    QUICK_EXIT = 10.0
    #: How long an exit is looked at before the child is started again: Ctrl+C in the
    #: terminal ends the children too, and the server says it is stopping (``stopping()``)
    #: a moment later. (The exit status cannot tell: gunicorn's arbiter, in this process,
    #: reaps every child that ends, so ours read as 0.)
    GRACE = 1.0

    def __init__(self, commands: dict[str, list[str]], check_every: float = 1.0) -> None:
        self.names = list(commands)
        self.commands = list(commands.values())
        self.processes = [self._start(command) for command in self.commands]
        self.started = [time.monotonic()] * len(commands)
        self.stopping = threading.Event()
        self.lock = threading.Lock()  # no restart once stop() has begun
        self.watcher = threading.Thread(
            target=self._watch, args=(check_every,), name="children", daemon=True
        )
        self.watcher.start()

    @staticmethod
    def _start(command: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(command)  # noqa: S603 - our own commands

    def _watch(self, check_every: float) -> None:
        while not self.stopping.wait(check_every):
            for index, process in enumerate(self.processes):
                if process.poll() is None or self.stopping.wait(self.GRACE):
                    continue
                lived = time.monotonic() - self.started[index]
                click.echo(
                    f"portal run: '{self.names[index]}' se ha parado; se arranca de nuevo.",
                    err=True,
                )
                if lived < self.QUICK_EXIT and self.stopping.wait(self.RESTART_BACKOFF):
                    return
                with self.lock:
                    if self.stopping.is_set():
                        return
                    self.processes[index] = self._start(self.commands[index])
                    self.started[index] = time.monotonic()

    def stopping_soon(self) -> None:
        """Start nothing again from now on (the server is stopping; stop() follows)."""
        self.stopping.set()

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@server.serving_options
def run(host: str, port: int, workers: int, threads: int, trusted_proxies: str) -> None:
    """Serve the web app and API, with a Celery worker and beat (embedded mode)."""
    app = _app()
    first = ensure_first_admin(app)
    data = Path(app.config["DATA_DIR"])
    credentials = data / "first-admin.txt"
    children = Children(
        {
            "worker": [sys.executable, "-m", "app.cli", "worker", "--embedded"],
            "beat": [sys.executable, "-m", "app.cli", "beat"],
            "mail-in": [sys.executable, "-m", "app.cli", "mail-in"],
        }
    )

    def stop(*_: object) -> None:
        children.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    click.echo("")
    click.echo(f"  Portal en http://{host}:{port}")
    if first:
        click.echo(f"  Primer administrador: {first[0]}  contraseña: {first[1]}")
        click.echo(f"  (guardado también en {credentials})")
    elif credentials.exists():
        click.echo(f"  Acceso del primer administrador en {credentials}")
    click.echo("  Pare con Ctrl+C.")
    click.echo("")
    try:
        # gunicorn handles SIGINT/SIGTERM itself: it stops its workers, then exits here.
        server.serve(
            app,
            host,
            port,
            workers=workers,
            threads=threads,
            trusted_proxies=trusted_proxies,
            on_stop=children.stopping_soon,
        )
    except KeyboardInterrupt:
        pass
    finally:
        stop()


@main.command()
@click.option("--concurrency", default=None, type=int)
@click.option("--name", default=None, help="Node name, for several workers on one host.")
@click.option("--embedded", is_flag=True, hidden=True)
def worker(concurrency: int | None, name: str | None, embedded: bool) -> None:
    """Run the Celery worker."""
    app = _app()
    celery = app.extensions["celery"]
    argv = ["worker", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    if name:
        argv.append(f"--hostname={name}@%h")
    if concurrency or embedded:
        argv.append(f"--concurrency={concurrency or 2}")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    yield_to_the_web(int(app.config["WORKER_NICE"]))
    celery.worker_main(argv)


def yield_to_the_web(niceness: int) -> None:
    """Run this process (and the job processes and tesseract it starts) at ``niceness``.

    On a host that also serves the web (embedded mode, or a small server running the compose
    file), an archive's OCR and previews otherwise take the processors from people waiting on
    a page: under the topology's 200-user load the pages waited seconds behind tesseract.
    Niceness only ever goes up here (lowering it needs privileges).
    """
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        os.setpriority(os.PRIO_PROCESS, 0, min(niceness, 19))


@main.command("mail-in")
@click.option("--host", default=None, help="Address to listen on (PORTAL_MAIL_IN_HOST).")
@click.option("--port", default=None, type=int, help="Port (PORTAL_MAIL_IN_PORT, 2525).")
def mail_in(host: str | None, port: int | None) -> None:
    """Run the inbound SMTP receiver: replies to threads and documents e-mailed to spaces."""
    import time

    from app.mail_receiver import build_receiver

    app = _app()
    host = host or str(app.config["MAIL_IN_HOST"])
    port = port or int(app.config["MAIL_IN_PORT"])
    receiver = build_receiver(app, host, port)
    receiver.start()
    click.echo(f"  Correo entrante en smtp://{host}:{port}")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()


@main.command()
def beat() -> None:
    """Run the Celery beat scheduler."""
    app = _app()
    celery = app.extensions["celery"]
    celery.start(["beat", "--loglevel=INFO"])


@main.command()
def demo() -> None:
    """Fill an empty portal with a demo firm: clients, spaces, documents, a request, a
    conversation, an incident, a renta campaign and an onboarding."""
    from datetime import date

    from app.services import demo as demo_firm
    from app.services.errors import DomainError

    app = _app()
    with app.app_context():
        try:
            logins = demo_firm.fill(date.today())
        except DomainError as exc:
            db.session.rollback()
            click.echo(exc.detail, err=True)
            sys.exit(1)
        db.session.commit()
        click.echo("Demo creada. Accesos:")
        for login in logins:
            click.echo(f"  {login.email} / {login.password} ({login.who})")


if __name__ == "__main__":
    main()
