"""E-mail in by IMAP: the beat polls the mailbox; each message is committed, then moved."""

from __future__ import annotations

import logging

from app.extensions import celery, db
from app.services import mail_imap

log = logging.getLogger(__name__)


@celery.task(name="portal.poll_mail_in")
def poll_mail_in() -> int:
    """Each waiting message through the receiver's service, one commit each; returns how many.

    A message is moved out of the polled folder only after its commit: one that failed
    (the database away, a bug) stays for the next poll, and a crash between the commit and
    the move is covered by the service storing a Message-ID once.
    """
    if not mail_imap.configured():
        return 0
    handled = 0
    with mail_imap.connect() as inbox:
        for item in inbox.pending():
            try:
                outcome = mail_imap.receive(inbox, item)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception(
                    "polled message %s could not be handled; left for the next poll", item.uid
                )
                continue
            inbox.done(item, outcome)
            handled += 1
    return handled
