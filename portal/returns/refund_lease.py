"""A worker's claim on a `processing` refund is a lease: it runs out at `lease_expires_at`
unless the worker renews it. While the gateway call runs, a heartbeat thread renews it every
third of its length, so the claim outlives any slow call of a live worker; a worker that dies
stops renewing, and another worker may take the refund over once the lease has run out
(refund_execution.start). A renewal is a compare-and-set on the claim (processing_started_at,
set when it was made): a worker that lost its claim stops renewing and never takes it back."""

import datetime
import logging

from portal.db import db, renewing
from portal.models import Refund, now
from portal.returns.refund_states import PROCESSING

log = logging.getLogger(__name__)


def expiry(seconds, at=None):
    return (at or now()) + datetime.timedelta(seconds=seconds)


def renew(refund, seconds):
    """Extend our claim on `refund` by `seconds` from now; False when it is no longer ours."""
    with db.atomic():
        renewed = (
            Refund.update(lease_expires_at=expiry(seconds))
            .where(
                (Refund.id == refund.id)
                & (Refund.status == PROCESSING)
                & (Refund.processing_started_at == refund.processing_started_at)
            )
            .execute()
        )
    return bool(renewed)


def kept(refund, seconds):
    """Renew the lease on `refund` (claimed by this worker) while the block runs."""

    def beat():
        if renew(refund, seconds):
            return True
        log.warning("refund %s: the claim is no longer ours; not renewing it", refund.id)
        return False

    return renewing(beat, seconds / 3, name=f"refund-{refund.id}-lease")
