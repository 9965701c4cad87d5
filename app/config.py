"""Settings: the only module that reads the environment (``PORTAL_*`` variables)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

GB = 1024**3


def _data_dir() -> Path:
    return Path(os.environ.get("PORTAL_DATA_DIR", "var")).resolve()


def _secret_key(data_dir: Path) -> str:
    """The session signing key: from the environment, else generated once under the data dir."""
    from_env = os.environ.get("PORTAL_SECRET_KEY")
    if from_env:
        return from_env
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def pki_passphrase(config: dict[str, Any]) -> bytes:
    """The key that encrypts the CA/TSA keys: the setting, else generated once (mode 0600).

    Read lazily, when the PKI is first needed, so that merely building the app
    never writes into the data directory.
    """
    configured = config.get("PKI_PASSPHRASE")
    if configured:
        return str(configured).encode()
    data_dir = Path(config["DATA_DIR"])
    path = data_dir / "pki_passphrase"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: a concurrent reader never sees it half written.
        tmp = data_dir / f".pki_passphrase.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process got there first; theirs wins
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration from defaults, ``PORTAL_*`` variables and explicit overrides."""
    overrides = overrides or {}
    data_dir = Path(overrides.get("DATA_DIR") or _data_dir())
    base_url = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    secure = os.environ.get("PORTAL_COOKIE_SECURE")
    cookie_secure = (
        secure.lower() in {"1", "true", "yes"}
        if secure is not None
        else base_url.startswith("https://")
    )
    config: dict[str, Any] = {
        "DATA_DIR": str(data_dir),
        "BASE_URL": base_url,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'portal.sqlite'}",
        "STORAGE_URL": f"file://{data_dir / 'blobs'}",
        # Where browsers reach the object store, when not at STORAGE_URL's host (presigned URLs).
        "STORAGE_PUBLIC_URL": None,
        "OUTBOX_DIR": str(data_dir / "outbox"),
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_RESULT_BACKEND": None,
        # Redis broker: seconds before a task a dead worker took is handed to another one.
        # Longer than the longest task (an OCR of max pages), or a slow task runs twice.
        "BROKER_VISIBILITY_TIMEOUT": 4 * 3600,
        "MAX_UPLOAD_SIZE": 50 * GB,
        # A JSON body is a few fields; files go as multipart or through tus.
        "MAX_JSON_SIZE": 1024 * 1024,
        "SMTP_HOST": None,
        "SMTP_PORT": 25,
        "SMTP_USER": None,
        "SMTP_PASSWORD": None,
        "SMTP_STARTTLS": False,
        "MAIL_FROM": "Portal <no-reply@portal.local>",
        # Inbound mail (portal mail-in): replies to threads and documents sent to a space.
        # Background jobs (OCR, previews, signing) yield the processor to people waiting on a
        # page: the worker runs at this niceness (0: as the web processes).
        "WORKER_NICE": 10,
        "MAIL_IN_HOST": "127.0.0.1",
        "MAIL_IN_PORT": 2525,
        "MAIL_IN_DOMAIN": None,  # default: the host of BASE_URL
        # A 25 MB attachment (the common mail providers' limit) is about 34 MB once encoded.
        "MAIL_IN_MAX_BYTES": 40 * 1024 * 1024,
        # Or polled from an IMAP mailbox (off while MAIL_IN_IMAP_HOST is unset), every
        # MAIL_IN_IMAP_SECONDS; handled messages are moved to MAIL_IN_IMAP_DONE_FOLDER.
        "MAIL_IN_IMAP_HOST": None,
        "MAIL_IN_IMAP_PORT": 0,  # 0: 993 with SSL, 143 without
        "MAIL_IN_IMAP_USER": None,
        "MAIL_IN_IMAP_PASSWORD": None,
        "MAIL_IN_IMAP_FOLDER": "INBOX",
        "MAIL_IN_IMAP_DONE_FOLDER": "Procesados",
        "MAIL_IN_IMAP_SSL": True,
        "MAIL_IN_IMAP_SECONDS": 60,
        "REPLY_TOKEN_DAYS": 60,
        # A blob no row names is deleted once this old (a crash between a write and its
        # commit leaves one); a write commits within seconds, a tus upload within its 24 h.
        "BLOB_ORPHAN_GRACE_HOURS": 24,
        "FIRM_NAME": "Portal",
        "TOKEN_HOURS": 12,
        "SESSION_HOURS": 12,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "LOGIN_IP_MAX_FAILURES": 30,
        "RESET_TOKEN_MINUTES": 60,
        "INVITATION_DAYS": 7,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Redis restarting must not turn logins into errors: each process counts alone meanwhile
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_LOGIN": "30 per minute",
        "BABEL_DEFAULT_LOCALE": "es",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Madrid",
        "LANGUAGES": ["es", "en"],
        "SESSION_COOKIE_NAME": "portal_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Signing: internal CA/TSA keys under DATA_DIR/pki, encrypted with this
        # passphrase (generated once into DATA_DIR/pki_passphrase when not set).
        "PKI_PASSPHRASE": None,
        "TSA_URL": None,  # an external RFC 3161 TSA instead of the internal one
        # a signature whose TSA does not answer waits and is tried again this often, this long
        "SIGN_TSA_RETRY_SECONDS": 30,
        "SIGN_TSA_RETRY_FOR_SECONDS": 3600,
        "SEAL_PKCS11_LIB": None,  # the firm's seal on a PKCS#11 token
        "SEAL_PKCS11_TOKEN": None,
        "SEAL_PKCS11_PIN": None,
        "SEAL_PKCS11_KEY_LABEL": None,
        "SIGNING_TRUST_ROOTS": None,  # PEM bundle of CAs trusted besides the internal one
        "SIGNING_ALLOW_FETCHING": False,  # fetch CRLs/OCSP of those CAs over the network
        # Previews: each rendition is drawn in a child process within these caps.
        "PREVIEW_TIMEOUT": 60,  # seconds
        "PREVIEW_MAX_PIXELS": 100_000_000,  # of a source image or video frame (bombs)
        "PREVIEW_MEMORY_BYTES": 3 * GB,  # address space of the drawing process; 0: no cap
        "PREVIEW_PDFJS_MAX_BYTES": 50 * 1024**2,  # larger PDFs are viewed page by page
        # Compares of two versions (app/services/compare.py), in the same kind of child process.
        "COMPARE_DPI": 100,  # resolution pages are drawn and compared at
        "COMPARE_TIMEOUT": 600,  # seconds for one compare, all its pages
        # Busy pages (dashboard, space, search) kept as rendered while the database has not
        # changed, at most this many seconds (0: off) and bytes per web worker (app/page_cache.py).
        "PAGE_CACHE_SECONDS": 30,
        "PAGE_CACHE_BYTES": 32 * 1024**2,
    }
    env_names = {
        "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
        "STORAGE_URL": "STORAGE_URL",
        "STORAGE_PUBLIC_URL": "STORAGE_PUBLIC_URL",
        "BROKER_URL": "CELERY_BROKER_URL",
        "RESULT_BACKEND": "CELERY_RESULT_BACKEND",
        "BROKER_VISIBILITY_TIMEOUT": "BROKER_VISIBILITY_TIMEOUT",
        "MAX_UPLOAD_SIZE": "MAX_UPLOAD_SIZE",
        "MAX_JSON_SIZE": "MAX_JSON_SIZE",
        "SMTP_HOST": "SMTP_HOST",
        "SMTP_PORT": "SMTP_PORT",
        "SMTP_USER": "SMTP_USER",
        "SMTP_PASSWORD": "SMTP_PASSWORD",
        "SMTP_STARTTLS": "SMTP_STARTTLS",
        "MAIL_FROM": "MAIL_FROM",
        "WORKER_NICE": "WORKER_NICE",
        "MAIL_IN_HOST": "MAIL_IN_HOST",
        "MAIL_IN_PORT": "MAIL_IN_PORT",
        "MAIL_IN_DOMAIN": "MAIL_IN_DOMAIN",
        "MAIL_IN_MAX_BYTES": "MAIL_IN_MAX_BYTES",
        "MAIL_IN_IMAP_HOST": "MAIL_IN_IMAP_HOST",
        "MAIL_IN_IMAP_PORT": "MAIL_IN_IMAP_PORT",
        "MAIL_IN_IMAP_USER": "MAIL_IN_IMAP_USER",
        "MAIL_IN_IMAP_PASSWORD": "MAIL_IN_IMAP_PASSWORD",
        "MAIL_IN_IMAP_FOLDER": "MAIL_IN_IMAP_FOLDER",
        "MAIL_IN_IMAP_DONE_FOLDER": "MAIL_IN_IMAP_DONE_FOLDER",
        "MAIL_IN_IMAP_SSL": "MAIL_IN_IMAP_SSL",
        "MAIL_IN_IMAP_SECONDS": "MAIL_IN_IMAP_SECONDS",
        "REPLY_TOKEN_DAYS": "REPLY_TOKEN_DAYS",
        "BLOB_ORPHAN_GRACE_HOURS": "BLOB_ORPHAN_GRACE_HOURS",
        "FIRM_NAME": "FIRM_NAME",
        "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
        "OUTBOX_DIR": "OUTBOX_DIR",
        "PKI_PASSPHRASE": "PKI_PASSPHRASE",
        "TSA_URL": "TSA_URL",
        "SIGN_TSA_RETRY_SECONDS": "SIGN_TSA_RETRY_SECONDS",
        "SIGN_TSA_RETRY_FOR_SECONDS": "SIGN_TSA_RETRY_FOR_SECONDS",
        "SEAL_PKCS11_LIB": "SEAL_PKCS11_LIB",
        "SEAL_PKCS11_TOKEN": "SEAL_PKCS11_TOKEN",
        "SEAL_PKCS11_PIN": "SEAL_PKCS11_PIN",
        "SEAL_PKCS11_KEY_LABEL": "SEAL_PKCS11_KEY_LABEL",
        "SIGNING_TRUST_ROOTS": "SIGNING_TRUST_ROOTS",
        "SIGNING_ALLOW_FETCHING": "SIGNING_ALLOW_FETCHING",
        "PREVIEW_TIMEOUT": "PREVIEW_TIMEOUT",
        "PREVIEW_MAX_PIXELS": "PREVIEW_MAX_PIXELS",
        "PREVIEW_MEMORY_BYTES": "PREVIEW_MEMORY_BYTES",
        "PREVIEW_PDFJS_MAX_BYTES": "PREVIEW_PDFJS_MAX_BYTES",
        "COMPARE_DPI": "COMPARE_DPI",
        "COMPARE_TIMEOUT": "COMPARE_TIMEOUT",
        "PAGE_CACHE_SECONDS": "PAGE_CACHE_SECONDS",
        "PAGE_CACHE_BYTES": "PAGE_CACHE_BYTES",
    }
    for env_name, key in env_names.items():
        value = os.environ.get(f"PORTAL_{env_name}")
        if value is None:
            continue
        if isinstance(config.get(key), bool):
            config[key] = value.lower() in {"1", "true", "yes"}
        elif isinstance(config.get(key), int):
            config[key] = int(value)
        else:
            config[key] = value
    config.update(overrides)
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(Path(config["DATA_DIR"]))
    config.setdefault("PKI_DIR", str(Path(config["DATA_DIR"]) / "pki"))
    config["PERMANENT_SESSION_LIFETIME"] = config["SESSION_HOURS"] * 3600
    if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    return config
