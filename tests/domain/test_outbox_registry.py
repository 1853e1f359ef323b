"""The outbox's handlers are an explicit registry: a process that imports only the outbox's
delivery (no views, no blueprints, no create_app) carries out a refund message. Before, the
"refund" handler existed only where some module had happened to import refund_execution."""

import json
import subprocess
import sys
from pathlib import Path

from portal.db import db
from portal.models import OutboxMessage
from tests import factories

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from portal import db as database
from portal.outbox import delivery
from portal.outbox.handlers import HANDLERS

database.initialize(sys.argv[1])
config = {"OUTBOX_LEASE_SECONDS": 60, "OUTBOX_BACKOFF_BASE": 1, "OUTBOX_BACKOFF_MAX": 5,
          "OUTBOX_MAX_ATTEMPTS": 3, "OUTBOX_SWEEP_GRACE_SECONDS": 1, "PAYMENT_GATEWAY": "ledger",
          "REFUND_STALE_SECONDS": 300, "STAFF_EMAIL": ""}
with database.db.connection_context():
    outcome = delivery.deliver(int(sys.argv[2]), config)
web = sorted(m for m in sys.modules if m.split(".")[:2] in (
    ["portal", "web"], ["portal", "auth"], ["portal", "customer"], ["portal", "merchant"]))
print(json.dumps({"kinds": sorted(HANDLERS), "outcome": outcome, "web": web}))
"""


def test_a_process_without_the_views_carries_out_a_refund_message(ctx, make):
    order, payment = factories.paid_order(5000)
    with db.atomic():
        _, refund = factories.one_refund(order, payment, amount=1200)
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    url = ctx.config["DATABASE_URL"]
    db.close()
    result = subprocess.run([sys.executable, "-c", SCRIPT, url, str(message.id)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["web"] == []  # not one view, blueprint or web helper was imported
    assert {"email", "refund"} <= set(seen["kinds"])
    assert seen["outcome"] == "sent"
    db.connect(reuse_if_open=True)
    assert refund.__class__.get_by_id(refund.id).status == "succeeded"
