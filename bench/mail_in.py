"""Benchmark `portal mail-in`: replies turned into messages and documents, and its memory.

Runs standalone: ``.venv/bin/python bench/mail_in.py [--messages 150] [--big-mb 25]``.

1. Throughput: the same replies (a short text and a 40 KB PDF each, a new Message-ID each)
   are sent over SMTP on loopback to ``portal mail-in`` (its own process, on SQLite and the
   filesystem store, every reply checked, parsed and stored as a message with its document)
   and to a bare aiosmtpd receiver that only writes each message to a file (the floor). Target:
   the portal ≥ 0.5 × the bare receiver's messages per second.
   The receivers' CPU time per reply is printed too: it does not move with the machine's load.
2. Memory: the receiver's peak RSS (VmHWM) before and after one reply with a ``--big-mb``
   attachment. Target: under 150 MB.

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

RATIO_TARGET = 0.5
MEMORY_TARGET_MB = 150
PASSWORD = "una-clave-de-prueba-2026"
BARE = """
import sys, time
from pathlib import Path
from aiosmtpd.controller import Controller

folder = Path(sys.argv[3])
count = 0

class Handler:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        (folder / f"{count}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 OK"

controller = Controller(Handler(), hostname=sys.argv[1], port=int(sys.argv[2]),
                        data_size_limit=64 * 1024 * 1024, decode_data=False)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(1)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
                smtp.noop()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def prepare(data_dir: Path) -> tuple[str, str]:
    """A portal with a client, a space and a thread; returns (sender, reply address)."""
    from app import create_app
    from app.cli import upgrade_database
    from app.extensions import db
    from app.services import accounts, clients, conversations, mail_addresses

    app = create_app({"DATA_DIR": str(data_dir), "MAIL_IN_DOMAIN": "portal.test"})
    upgrade_database(app)
    with app.app_context():
        admin = accounts.create_user(
            None, email="socia@asesoria.es", name="Socia", role="admin", password=PASSWORD
        )
        firm = clients.create_client(admin, name="Ferretería Ruiz S.L.")
        person = accounts.create_user(
            None,
            email="ana@ferreteria.es",
            name="Ana Ruiz",
            role="client",
            client_id=firm.id,
            password=PASSWORD,
        )
        space = clients.create_space(admin, firm.id, name="Ejercicio 2026", kind="fiscal_year")
        clients.add_member(admin, space.id, user_id=person.id, permission="contribute")
        thread = conversations.create_thread(
            admin, space.id, subject="Facturas", body="¿Las tiene?"
        )
        address = mail_addresses.reply_address(thread, person)
        db.session.commit()
    return "ana@ferreteria.es", address


def reply(sender: str, address: str, attachment: bytes, name: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = "Re: Facturas"
    message["Message-ID"] = make_msgid(domain="ferreteria.es")
    message.set_content(
        "Aquí la tiene.\n\nEl lun, 1 dic 2026 a las 10:00, Portal <no-reply@portal.local> "
        "escribió:\n> ¿Las tiene?\n"
    )
    message.add_attachment(attachment, maintype="application", subtype="pdf", filename=name)
    return message


def send_all(port: int, messages: list[EmailMessage]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
        for message in messages:
            smtp.send_message(message)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=150)
    parser.add_argument("--big-mb", type=int, default=25)
    args = parser.parse_args()
    failed = False
    pdf = b"%PDF-1.4\n" + os.urandom(40 * 1024)
    with tempfile.TemporaryDirectory(prefix="bench-mail-in-") as tmp:
        folder = Path(tmp)
        data_dir = folder / "portal"
        sender, address = prepare(data_dir)
        env = {
            **os.environ,
            "PORTAL_DATA_DIR": str(data_dir),
            "PORTAL_MAIL_IN_DOMAIN": "portal.test",
            "PORTAL_MAIL_IN_MAX_BYTES": str(64 * 1024 * 1024),
        }
        portal_port, bare_port = free_port(), free_port()
        portal = subprocess.Popen(  # noqa: S603
            [str(ROOT / ".venv" / "bin" / "portal"), "mail-in", "--port", str(portal_port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        (folder / "bare").mkdir()
        bare = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", BARE, "127.0.0.1", str(bare_port), str(folder / "bare")],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_for_port(portal_port)
            wait_for_port(bare_port)
            send_all(portal_port, [reply(sender, address, pdf, "calentar.pdf")])  # warm up
            times: dict[str, list[float]] = {}
            cpu: dict[str, float] = {"portal": 0.0, "bare": 0.0}
            pids = {"portal": portal.pid, "bare": bare.pid}
            for round_number in range(2):
                order = ("portal", "bare") if round_number % 2 == 0 else ("bare", "portal")
                for which in order:
                    batch = [
                        reply(sender, address, pdf, f"factura-{n}.pdf")
                        for n in range(args.messages)
                    ]
                    port = portal_port if which == "portal" else bare_port
                    used = cpu_seconds(pids[which])
                    times.setdefault(which, []).append(send_all(port, batch))
                    cpu[which] += cpu_seconds(pids[which]) - used
            portal_rate = args.messages / min(times["portal"])
            bare_rate = args.messages / min(times["bare"])
            ratio = portal_rate / bare_rate
            print(
                f"replies stored: portal mail-in {portal_rate:.1f} msg/s, bare aiosmtpd writing "
                f"files {bare_rate:.1f} msg/s: {ratio:.2f}x (target >= {RATIO_TARGET}x)"
            )
            per_message = {k: v / (2 * args.messages) * 1000 for k, v in cpu.items()}
            print(
                f"receiver CPU per reply: portal mail-in {per_message['portal']:.1f} ms, bare "
                f"{per_message['bare']:.1f} ms"
            )
            if ratio < RATIO_TARGET:
                failed = True
            before = peak_rss_mb(portal.pid)
            big = os.urandom(args.big_mb * 1024 * 1024)
            send_all(portal_port, [reply(sender, address, b"%PDF-1.4\n" + big, "grande.pdf")])
            after = peak_rss_mb(portal.pid)
            print(
                f"receiver peak RSS: {before:.0f} MiB before, {after:.0f} MiB after a reply with "
                f"a {args.big_mb} MB attachment (target < {MEMORY_TARGET_MB} MB)"
            )
            if after * 1.048576 >= MEMORY_TARGET_MB:
                failed = True
        finally:
            for process in (portal, bare):
                process.terminate()
                process.wait(timeout=20)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
