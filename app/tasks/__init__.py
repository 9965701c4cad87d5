"""Celery tasks: load by id, call one service, commit. Enqueued by name."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from celery.signals import worker_process_init
from flask import Flask

from app.extensions import celery, db
from app.services import accounts, alerts, campaigns, mail, notifications, onboarding, requests
from app.tasks import compare as compare_tasks  # noqa: F401 - registers the compare job
from app.tasks import mail_in as mail_in_tasks  # noqa: F401 - registers the IMAP poll
from app.tasks import ocr as ocr_tasks  # noqa: F401 - registers the OCR pipeline
from app.tasks import previews as preview_tasks  # noqa: F401 - registers the preview tasks
from app.tasks import (
    signing,  # noqa: F401 - registers the signing tasks
    uploads,  # noqa: F401 - upload expiry, blob integrity, orphan blobs
)

log = logging.getLogger(__name__)


def init_celery(app: Flask) -> None:
    data = Path(app.config["DATA_DIR"])
    broker = app.config["CELERY_BROKER_URL"]
    options: dict[str, Any] = {}
    transport = None
    # On a real broker each process takes one job at a time: a job taken is one another
    # worker cannot take, and it would wait behind a long one. The embedded broker serves
    # the one worker of `portal run`, which gives the jobs it holds to whichever of its
    # processes is free; holding four per process keeps them busy between quick jobs
    # instead of idle until the next look at the queue folder.
    prefetch = 1
    if broker.startswith("filesystem"):
        transport = "app.tasks.filesystem_broker:Transport"
        prefetch = 4
        folder = data / "broker"
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        options = {
            # kombu keeps its exchange table in ./control unless told otherwise
            "control_folder": str(folder / "control"),
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "store_processed": False,
            # kombu looks for new files once a second by default: a queue of quick jobs
            # (a thumbnail, a text layer) would then wait more than it works
            "polling_interval": 0.05,
        }
    elif broker.startswith(("redis", "rediss", "sentinel")):
        options = _redis_redelivery(int(app.config["BROKER_VISIBILITY_TIMEOUT"]))
    celery.conf.update(
        broker_url=broker,
        broker_transport=transport,
        broker_transport_options=options,
        result_backend=app.config["CELERY_RESULT_BACKEND"],
        task_ignore_result=app.config["CELERY_RESULT_BACKEND"] is None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=prefetch,
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=str(data / "celerybeat-schedule"),
        beat_schedule={
            "deliver-mail": {"task": "portal.deliver_mail", "schedule": 60.0},
            "poll-mail-in": {
                "task": "portal.poll_mail_in",
                "schedule": float(app.config["MAIL_IN_IMAP_SECONDS"]),
            },
            "refresh-archive-timestamps": {
                "task": "portal.refresh_archive_timestamps",
                "schedule": 86400.0,
            },
            "sweep-alerts": {"task": "portal.sweep_alerts", "schedule": 900.0},
            "expire-onboardings": {"task": "portal.expire_onboardings", "schedule": 3600.0},
            "resume-stalled-ocr": {"task": "portal.resume_stalled_ocr", "schedule": 900.0},
            "expire-uploads": {"task": "portal.expire_uploads", "schedule": 3600.0},
            "check-integrity": {"task": "portal.check_integrity", "schedule": 3600.0},
            "sweep-orphan-blobs": {
                "task": "portal.sweep_orphan_blobs",
                "schedule": crontab(hour=3, minute=30),
            },
            "request-reminders": {
                "task": "portal.request_reminders",
                "schedule": crontab(hour=8, minute=0),
            },
            "daily-digest": {"task": "portal.daily_digest", "schedule": crontab(hour=7, minute=0)},
        },
        timezone="UTC",
    )
    celery.flask_app = app  # type: ignore[attr-defined]
    app.extensions["celery"] = celery


@worker_process_init.connect
def _own_connections(**_: Any) -> None:
    """Each pool process of a worker opens its own database connections.

    The pool processes are forked from the worker's main process after the app was made (and
    may have connected): a connection inherited through the fork is a socket shared with the
    other processes, on which two of them would read each other's answers (SQLAlchemy's advice
    for forked processes). The inherited pool is dropped without closing it, which would close
    the parent's sockets too; as gunicorn's workers do (app/server.py).
    """
    flask_app = getattr(celery, "flask_app", None)
    if flask_app is None:
        return
    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def _redis_redelivery(visibility_timeout: int) -> dict[str, Any]:
    """Redis transport options: when a task taken by a worker that died goes to another one.

    Tasks are acknowledged late and rejected back to the queue when a pool process
    dies; when the whole worker dies (killed, machine lost), Redis still holds the
    task as unacknowledged and any worker hands it out again once it is older than
    ``visibility_timeout``. Workers look for such tasks about every quarter of it
    (at most every 100 s, kombu's default).
    """
    interval = min(10, max(1, visibility_timeout // 40))
    throttle = min(10, max(1, visibility_timeout // (4 * interval)))
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": interval,
        "unacked_restore_throttle": throttle,
    }


@celery.task(name="portal.deliver_mail")
def deliver_mail() -> int:
    sent = mail.deliver_pending()
    db.session.commit()
    return sent


@celery.task(name="portal.sweep_alerts")
def sweep_alerts() -> int:
    created = alerts.sweep()
    db.session.commit()
    return created


@celery.task(name="portal.run_campaign")
def run_campaign(campaign_id: str) -> int:
    """Each client's space and request, a batch of clients per commit: a run cut short goes
    on from the last batch, and a re-run makes nothing twice."""
    from datetime import date

    made = 0
    campaigns.start(campaign_id)
    db.session.commit()
    for batch in campaigns.batches(campaigns.pending_rows(campaign_id)):
        try:
            campaigns.run_batch(batch, today=date.today())
            db.session.commit()
        except Exception:
            # one client's trouble must not hold up the others: this batch one by one
            db.session.rollback()
            log.info(
                "campaign %s: a batch failed, its clients one by one", campaign_id, exc_info=True
            )
            for row_id in batch:
                _run_campaign_row(row_id, date.today())
        made += len(batch)
    campaigns.finish(campaign_id)
    db.session.commit()
    return made


def _run_campaign_row(row_id: str, today: date) -> None:
    """One client of a campaign; an error no service foresaw (a bug) fails that row, logged,
    for staff to retry, rather than ending the job with the campaign left running."""
    try:
        campaigns.run_one(row_id, today=today)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("campaign row %s could not be prepared", row_id)
        campaigns.preparation_failed(row_id)
        db.session.commit()


@celery.task(name="portal.send_password_reset")
def send_password_reset(email: str) -> None:
    accounts.send_password_reset(email)
    db.session.commit()


@celery.task(name="portal.expire_onboardings")
def expire_onboardings() -> int:
    expired = onboarding.expire_stalled()
    db.session.commit()
    return expired


@celery.task(name="portal.daily_digest")
def daily_digest() -> int:
    sent = notifications.send_daily_digests()
    db.session.commit()
    return sent


@celery.task(name="portal.request_reminders")
def request_reminders() -> int:
    """Once a day: next year's recurring requests, then the reminders that fall today."""
    from datetime import date

    today = date.today()
    requests.create_recurring(today)
    sent = requests.send_reminders(today)
    db.session.commit()
    return sent
