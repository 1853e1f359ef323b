"""Web tests drive the pages through Flask's test client (each request opens and closes its
own connection, as in production), on SQLite or PostgreSQL, with no Redis: outbox messages go
to the in-memory broker and the rate limits count in memory. Fixtures that build data open an
app context only while they build it."""

import pytest

from tests import factories
from tests.apps import close_db, make_app


@pytest.fixture
def store(app):
    """factories.store() (staff, a shopper with a delivered order, reasons, locations)."""
    with app.app_context():
        made = factories.store()
    close_db()
    return made


@pytest.fixture
def sam(app):
    """A shopper, Sam (sam@example.com), with no orders yet."""
    with app.app_context():
        user = factories.user("sam@example.com", name="Sam")
    close_db()
    return user


@pytest.fixture
def csrf_app(tmp_path):
    """The app with CSRF protection on, as in production (the default test app has it off)."""
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    yield app
    close_db()
