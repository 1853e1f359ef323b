"""Housekeeping on the beat: expire approved returns whose parcel never came, remind halfway,
and forget stored Idempotency-Key answers older than IDEMPOTENCY_KEEP_SECONDS."""

import logging

from celery import shared_task
from flask import current_app

from portal.returns import expiry, idempotency

log = logging.getLogger(__name__)


@shared_task(name="tasks.housekeeping.run")
def run():
    """Expire first, so a return past its deadline is cancelled rather than reminded."""
    expired = expiry.expire_unshipped()
    reminded = expiry.send_reminders()
    purged = idempotency.purge(current_app.config["IDEMPOTENCY_KEEP_SECONDS"])
    if reminded or expired or purged:
        log.info("housekeeping: reminded %s, expired %s, idempotency answers purged %s",
                 reminded, expired, purged)  # fmt: skip
    return {"reminded": reminded, "expired": expired, "purged": purged}
