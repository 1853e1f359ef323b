"""The staff return page's big read (portal.returns.detail._page_queries) through
prebuilt_together_rows: the same rows as prebuilt_together's (and so as rows_together's) for
a return with every kind of row the page shows, on SQLite and PostgreSQL."""

import datetime

import pytest

from portal.db import db
from portal.models import ExchangeOrder, ReturnExtraLine, ReturnPhoto
from portal.prebuilt import prebuilt_together, prebuilt_together_rows
from portal.returns.detail import _page_queries
from tests import factories


@pytest.fixture(params=["sqlite", "postgres"])
def database(request):
    app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    with app.app_context():
        yield


def _shown(row):
    extra = {k: v for k, v in vars(row).items() if not k.startswith("_")}
    return type(row), row.__data__, extra


@pytest.mark.parametrize("policy", [True, False])
def test_the_pages_rows_equal_prebuilt_togethers(database, policy):
    store = factories.store(
        payments=[
            {"method": "card", "reference": "ch_1", "amount": 2500},
            {"method": "gift_card", "reference": "gc_1", "amount": 1000},
        ]
    )
    rma = factories.create_return(store.order, reason=store.changed_mind, status="received")
    other = factories.create_return(factories.store().order, reason=store.changed_mind)
    line = factories.line_of(rma)
    for n in range(2):
        ReturnPhoto.create(line=line, stored_name=f"p{n}-{rma.id}.jpg", content_type="image/jpeg",
                           size=100 + n)  # fmt: skip
    ReturnExtraLine.create(rma=rma, description="Goodwill", amount=250, created_by=store.manager)
    ReturnExtraLine.create(rma=rma, description="Repair", amount=-400, created_by=store.manager)
    ExchangeOrder.create(rma=rma, reference=f"{rma.reference}-X1", status="awaiting_payment",
                         amount_due=300, early=True,
                         paid_at=datetime.datetime(2026, 3, 4, 5, 6, 7, 890))  # fmt: skip
    with db.atomic():
        factories.make_refund(rma, 700, status="failed")
        factories.make_refund(rma, 300, status="succeeded")

    def build(**values):
        return _page_queries(**values, policy=policy)

    for each in (rma, other, rma):
        values = {"rma_id": each.id, "order_id": each.order_id, "email": each.email}
        want = prebuilt_together(f"test-detail-{policy}", build, **values)
        got = prebuilt_together_rows(f"test-detail-rows-{policy}", build, **values)
        assert len(got) == len(want)
        for ours, theirs in zip(got, want, strict=True):
            if isinstance(theirs, list):
                assert [_shown(r) for r in ours] == [_shown(r) for r in theirs]
                assert all(not r.is_dirty() for r in ours)
            else:
                assert ours == theirs
    lists = prebuilt_together_rows(f"test-detail-rows-{policy}", build, rma_id=rma.id,
                                   order_id=rma.order_id, email=rma.email)  # fmt: skip
    assert any(isinstance(x, list) and x and isinstance(x[0], ReturnPhoto) for x in lists)
    assert any(isinstance(x, list) and x and isinstance(x[0], ExchangeOrder) for x in lists)
