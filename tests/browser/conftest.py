"""Browser-test fixtures: the demo store, with mail going to the test SMTP server."""

import pytest

from portal.db import db
from portal.seed import seed_demo
from tests.conftest import make_app


@pytest.fixture
def demo_app(request, tmp_path, redis_url, smtp_server):
    """The seeded demo store (DEMO_ORDERS from the test module, default 12). live_server and the
    Celery worker use it through a module-level `app` fixture that returns it."""
    controller, _ = smtp_server
    app = make_app(tmp_path, redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    with app.app_context(), db.connection_context():
        seed_demo(orders=getattr(request.module, "DEMO_ORDERS", 12))
    yield app
    if not db.is_closed():
        db.close()
