"""Webhooks out, measured (not part of make test): what writing the events costs a status change
(approve) with no endpoint and with three, and how fast one process delivers signed events to a
local receiver (the receiver's own cost included). Prints figures; asserts nothing.

    .venv/bin/python bench/webhooks.py [--returns 300]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.db import db  # noqa: E402
from portal.models import OutboxMessage  # noqa: E402
from portal.outbox import delivery  # noqa: E402
from portal.returns import review, webhook_endpoints  # noqa: E402
from portal.returns.webhook_events import TYPES  # noqa: E402
from tests import factories  # noqa: E402
from tests.apps import make_app  # noqa: E402
from tests.querycount import count_queries  # noqa: E402
from tests.webhook_receiver import Receiver  # noqa: E402


def approvals(store, n):
    returns = [factories.create_return(store.order, reason=store.changed_mind) for _ in range(n)]
    started = time.perf_counter()
    for rma in returns:
        review.approve(rma, store.manager)
    return (time.perf_counter() - started) / n * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--returns", type=int, default=300)
    n = parser.parse_args().returns
    receivers = [Receiver().start() for _ in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), WEBHOOK_RETRY_SCHEDULE=[60], WEBHOOK_TIMEOUT=5)
        with app.app_context():
            store = factories.store(quantity=10_000)
            rma = factories.create_return(store.order, reason=store.changed_mind)
            with count_queries() as none:
                review.approve(rma, store.manager)
            bare = approvals(store, n)
            for receiver in receivers:  # each shop checks its own endpoint's secret
                _, secret = webhook_endpoints.add_endpoint(store.admin, url=receiver.url,
                                                           event_types=list(TYPES))  # fmt: skip
                receiver.secrets = [secret]
            rma = factories.create_return(store.order, reason=store.changed_mind)
            with count_queries() as three:
                review.approve(rma, store.manager)
            hooked = approvals(store, n)
            ids = [m.id for m in OutboxMessage.select(OutboxMessage.id).where(
                OutboxMessage.kind == "webhook").order_by(OutboxMessage.id)]  # fmt: skip
            started = time.perf_counter()
            for message_id in ids:
                delivery.deliver(message_id, app.config)
            took = time.perf_counter() - started
            sent = (
                OutboxMessage.select()
                .where((OutboxMessage.kind == "webhook") & (OutboxMessage.status == "sent"))
                .count()
            )
        db.close()
    refused = sum(len(r.refused) for r in receivers)
    for receiver in receivers:
        receiver.stop()
    print(f"approve, no endpoint:     {bare:6.2f} ms per return, {len(none)} queries")
    print(f"approve, three endpoints: {hooked:6.2f} ms per return, {len(three)} queries "
          f"(3 webhook rows written in the same transaction)")  # fmt: skip
    print(
        f"delivery in one process:  {len(ids)} events in {took:.2f} s = "
        f"{len(ids) / took:.0f} events/s ({sent} sent, {refused} refused)"
    )


if __name__ == "__main__":
    main()
