"""A real IMAP server for the tests: Debian's Dovecot, run unprivileged on 127.0.0.1.

Started with a configuration of its own in a temporary folder (one mailbox, a plain password,
Maildir, no TLS), as the user running the tests, or as ``nobody`` when that is root (Dovecot
never gives mail to root). When Dovecot is missing and the tests run as root, it is installed
(``dovecot-imapd``); otherwise the tests that need it skip, except in CI, where they fail.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from portal_testing import IN_CI, _free_port

DOVECOT = "/usr/sbin/dovecot"
USER = "buzon@portal.test"
PASSWORD = "clave-del-buzon"


def _ensure_dovecot() -> None:
    if shutil.which("dovecot") or os.path.exists(DOVECOT):
        return
    if os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)  # noqa: S607
        subprocess.run(  # noqa: S603
            ["apt-get", "install", "-y", "-qq", "dovecot-imapd"],  # noqa: S607
            check=False,
            env=env,
        )
    if not os.path.exists(DOVECOT):
        message = "Dovecot (Debian dovecot-imapd) is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


class Dovecot:
    """One Dovecot on a free port of 127.0.0.1 with the mailbox USER / PASSWORD."""

    def __init__(self) -> None:
        _ensure_dovecot()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="portal-imap-"))
        if os.geteuid() == 0:
            account = pwd.getpwnam("nobody")
        else:
            account = pwd.getpwuid(os.geteuid())
        self.uid, self.gid = account.pw_uid, account.pw_gid
        self.user = account.pw_name
        self.group = grp.getgrgid(self.gid).gr_name
        self.process: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        root = self.root
        return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
default_login_user = {self.user}
default_internal_user = {self.user}
default_internal_group = {self.group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""

    def start(self) -> None:
        root = self.root
        (root / "home").mkdir()
        (root / "passwd").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{root}/home/buzon\n"
        )
        (root / "dovecot.conf").write_text(self._config())
        for path in [root, *root.rglob("*")]:
            os.chown(path, self.uid, self.gid)
        root.chmod(0o755)
        self.process = subprocess.Popen(  # noqa: S603
            [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
            user=self.uid if os.geteuid() == 0 else None,
            group=self.gid if os.geteuid() == 0 else None,
            extra_groups=[] if os.geteuid() == 0 else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot did not start: {error}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
