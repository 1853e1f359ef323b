"""The app a subprocess worker runs in tests: `celery -A tests.worker_app:celery_app worker`.

Everything comes from the environment the test sets, read by portal.config like any worker's:
DATABASE_URL, REDIS_URL, MAIL_SERVER, MAIL_PORT, MAIL_DIR, STRIPE_API_KEY, STRIPE_API_BASE,
PORTAL_INSTANCE, and short timings (OUTBOX_*, REFUND_STALE_SECONDS, STRIPE_TIMEOUT). HOLD_DIR
turns on the "ledger_hold" gateway (tests/hold_gateway.py)."""

import os

from portal import create_app

config = {"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://", "SECRET_KEY": "test-secret"}
flask_app = create_app(config, web=False)  # as worker.py
celery_app = flask_app.extensions["celery"]
# BRPOP returns every 0.1 s instead of every 1 s, so a worker stops quickly on SIGTERM.
celery_app.conf.broker_transport_options = {**celery_app.conf.broker_transport_options,
                                            "polling_interval": 0.1}  # fmt: skip

if os.environ.get("HOLD_DIR"):
    from tests import hold_gateway

    hold_gateway.install(os.environ["HOLD_DIR"])
