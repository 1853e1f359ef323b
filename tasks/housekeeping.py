"""Housekeeping on the beat: expire approved returns whose parcel never came, remind halfway,
forget photos kept with request drafts never submitted, and forget stored Idempotency-Key
answers older than IDEMPOTENCY_KEEP_SECONDS."""

import logging

from celery import shared_task
from flask import current_app

from portal.returns import drafts, expiry, idempotency
from portal.uploads import delete_photos

log = logging.getLogger(__name__)


@shared_task(name="tasks.housekeeping.run")
def run():
    """Expire first, so a return past its deadline is cancelled rather than reminded."""
    expired = expiry.expire_unshipped()
    reminded = expiry.send_reminders()
    swept = drafts.expired()
    delete_photos(swept, current_app.config["UPLOAD_DIR"])
    purged = idempotency.purge(current_app.config["IDEMPOTENCY_KEEP_SECONDS"])
    if reminded or expired or swept or purged:
        log.info("housekeeping: reminded %s, expired %s, draft photos swept %s, idempotency "
                 "answers purged %s", reminded, expired, len(swept), purged)  # fmt: skip
    return {"reminded": reminded, "expired": expired, "draft_photos": len(swept),
            "purged": purged}  # fmt: skip
