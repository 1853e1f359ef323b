"""Housekeeping on the beat: expire approved returns whose parcel never came, remind halfway,
and forget photos kept with request drafts never submitted."""

import logging

from celery import shared_task
from flask import current_app

from portal.returns import drafts, expiry
from portal.uploads import delete_photos

log = logging.getLogger(__name__)


@shared_task(name="tasks.housekeeping.run")
def run():
    """Expire first, so a return past its deadline is cancelled rather than reminded."""
    expired = expiry.expire_unshipped()
    reminded = expiry.send_reminders()
    swept = drafts.expired()
    delete_photos(swept, current_app.config["UPLOAD_DIR"])
    if reminded or expired or swept:
        log.info("housekeeping: reminded %s, expired %s, draft photos swept %s", reminded,
                 expired, len(swept))  # fmt: skip
    return {"reminded": reminded, "expired": expired, "draft_photos": len(swept)}
