"""Domain tests call portal.returns (and the outbox and payment code) directly, inside the app
context `ctx` keeps open for the whole test, against a real SQLite file (or PostgreSQL for the
`postgres` cases). No test client and no Redis: outbox messages go to the in-memory broker."""

import pytest

from tests import factories


@pytest.fixture
def store(ctx):
    """factories.store(): staff, a shopper with a delivered order, reasons and locations."""
    return factories.store()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_app(request):
    """The app on SQLite, then on PostgreSQL (the same test on both databases)."""
    return request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
