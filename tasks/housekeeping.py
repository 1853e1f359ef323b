"""Housekeeping on the beat: expire approved returns whose parcel never came, remind halfway."""

import logging

from celery import shared_task

from portal.returns import expiry

log = logging.getLogger(__name__)


@shared_task(name="tasks.housekeeping.run")
def run():
    """Expire first, so a return past its deadline is cancelled rather than reminded."""
    expired = expiry.expire_unshipped()
    reminded = expiry.send_reminders()
    if reminded or expired:
        log.info("housekeeping: reminded %s, expired %s", reminded, expired)
    return {"reminded": reminded, "expired": expired}
