"""portal.prebuilt.rows_together(): several small SELECTs in one statement, each query's rows back as
model instances with their Python values and in the query's order, on SQLite and PostgreSQL."""

import datetime

import pytest
from peewee import fn

from portal.models import Payment, ReturnExtraLine, ReturnReason
from portal.prebuilt import rows_together
from tests import factories
from tests.querycount import count_queries


@pytest.fixture(params=["sqlite", "postgres"])
def database(request):
    app = request.getfixturevalue("app" if request.param == "sqlite" else "pg_app")
    with app.app_context():
        yield


def test_several_queries_one_statement_same_rows(database):
    store = factories.store(
        payments=[
            {"method": "card", "reference": "ch_1", "amount": 2500},
            {"method": "gift_card", "reference": "gc_1", "amount": 1000},
        ]
    )
    rma = factories.create_return(store.order, reason=store.changed_mind)
    ReturnExtraLine.create(rma=rma, description="Goodwill", amount=250, created_by=store.manager)
    ReturnExtraLine.create(rma=rma, description="Postage", amount=495)
    queries = [
        Payment.select().where(Payment.order == store.order.id).order_by(Payment.position.desc()),
        ReturnExtraLine.select().where(ReturnExtraLine.rma == rma.id).order_by(ReturnExtraLine.id),
        ReturnReason.select().where(ReturnReason.id == -1),
        ReturnReason.select(ReturnReason.id, ReturnReason.label, ReturnReason.active)
        .order_by(ReturnReason.label),
        Payment.select(Payment.method, fn.SUM(Payment.amount).alias("total"))
        .group_by(Payment.method)
        .order_by(Payment.method),
    ]  # fmt: skip
    expected = [[row.__data__ for row in query.clone()] for query in queries]
    with count_queries() as counted:
        together = rows_together(*queries)
    assert counted.count == 1
    assert [[row.__data__ for row in rows] for rows in together] == expected
    extra = together[1][0]
    assert isinstance(extra.created_at, datetime.datetime) and extra.created_by_id
    assert together[1][1].created_by_id is None
    assert together[2] == []
    assert all(isinstance(r.active, bool) for r in together[3])
    assert [(p.method, p.total) for p in together[4]] == [("card", 2500), ("gift_card", 1000)]


def test_a_prebuilt_statement_gives_each_calls_own_rows(database):
    from portal.prebuilt import prebuilt_together

    def build(order_id, method):
        return [
            Payment.select().where(Payment.order == order_id).order_by(Payment.id),
        ], [Payment.select(fn.COUNT(Payment.id)).where(Payment.method == method)]

    first, second = factories.store(), factories.store()
    for store in (first, second, first):
        rows, cards = prebuilt_together("test", build, order_id=store.order.id, method="card")
        assert [p.order_id for p in rows] == [store.order.id]
        assert cards == 2
    rows, gift = prebuilt_together("test", build, order_id=-1, method="gift_card")
    assert rows == [] and gift == 0


def test_a_prebuilt_select_gives_what_the_query_gives(database):
    """portal.prebuilt.prebuilt_select(): the rows of each call's values, as the query itself reads
    them (models with their joins, or tuples), the SQL built once."""
    from portal.models import Order, Return
    from portal.prebuilt import prebuilt_select

    def returns_of(email, status):
        return (
            Return.select(Return, Order)
            .join(Order)
            .where((Return.email == email) & (Return.status == status))
            .order_by(Return.id)
        )

    def counted(order_id):
        return Payment.select(Payment.method, Payment.amount).where(Payment.order == order_id)

    first, second = factories.store(), factories.store()
    made = {
        store.order.email: factories.create_return(store.order, reason=store.changed_mind)
        for store in (first, second)
    }
    for email in (first.order.email, second.order.email, first.order.email, "nobody@x.org"):
        expected = list(returns_of(email, "requested"))
        with count_queries() as counted_queries:
            rows = prebuilt_select("test-returns", returns_of, email=email, status="requested")
        assert counted_queries.count == 1
        assert [r.__data__ for r in rows] == [r.__data__ for r in expected]
        assert [r.order.__data__ for r in rows] == [r.order.__data__ for r in expected]
        assert [r.id for r in rows] == ([made[email].id] if email in made else [])
    again = prebuilt_select("test-returns", returns_of, email=first.order.email, status="requested")
    once_more = prebuilt_select("test-returns", returns_of, email=first.order.email,
                                status="requested")  # fmt: skip
    assert again[0] is not once_more[0] and again[0].order is not once_more[0].order  # own rows
    assert prebuilt_select("test-none", returns_of, email=first.order.email, status="x") == []
    tuples = prebuilt_select("test-tuples", lambda order_id: counted(order_id).tuples(),
                             order_id=first.order.id)  # fmt: skip
    assert tuples == list(counted(first.order.id).tuples())


def test_a_prebuilt_select_refuses_a_value_that_is_not_a_parameter(database):
    from portal.models import Return
    from portal.prebuilt import prebuilt_select

    with pytest.raises(ValueError, match="term"):
        prebuilt_select("test-like", lambda term: Return.select().where(
            Return.email.contains(term)), term="ada")  # fmt: skip


def test_prebuilt_rows_equal_peewees_own(database):
    """portal.prebuilt.prebuilt_rows: the same instances Peewee makes (fields, their Python values,
    extra aliased columns), each call with its own values, one statement each."""
    from portal.models import User
    from portal.prebuilt import prebuilt_rows

    def build(email, role):
        return (
            User.select(User, fn.LENGTH(User.email).alias("email_length"))
            .where((User.email == email) | (User.role == role))
            .order_by(User.id)
        )

    first, second = factories.store(), factories.store()
    second.shopper.locked_until = datetime.datetime(2026, 12, 1, 14, 5, 6)
    second.shopper.save()
    for store, role in ((first, "nobody"), (second, "nobody"), (first, "manager")):
        expected = list(build(store.shopper.email, role))
        with count_queries() as counted:
            rows = prebuilt_rows("test-rows", build, email=store.shopper.email, role=role)
        assert counted.count == 1
        assert [row.__data__ for row in rows] == [row.__data__ for row in expected]
        assert [row.email_length for row in rows] == [len(row.email) for row in expected]
        assert all(isinstance(row.active, bool) and not row.is_dirty() for row in rows)
    (locked,) = prebuilt_rows("test-rows", build, email=second.shopper.email, role="nobody")
    assert locked.locked_until == datetime.datetime(2026, 12, 1, 14, 5, 6)
    locked.name = "Changed"  # the instances save like Peewee's own
    locked.save()
    assert User.get_by_id(locked.id).name == "Changed"
    assert prebuilt_rows("test-rows", build, email="nobody@example.com", role="nobody") == []


def test_prebuilt_tuples_equal_peewees_tuples(database):
    """portal.prebuilt.prebuilt_tuples: each query's rows as the tuples Peewee's .tuples() gives (times,
    booleans, JSON text, foreign keys and aggregates as Python values), in its ORDER BY, the
    scalars after them, one statement per call with each call's own values."""
    from portal.models import OrderLine
    from portal.prebuilt import prebuilt_tuples

    def build(order_id, sku_like):
        return [
            OrderLine.select(OrderLine.id, OrderLine.order, OrderLine.title, OrderLine.variant,
                             OrderLine.final_sale, OrderLine.delivered_at, OrderLine.bundle)
            .where((OrderLine.order == order_id) | (OrderLine.sku**sku_like))
            .order_by(OrderLine.final_sale.desc(), OrderLine.id),
            Payment.select(Payment.method, fn.SUM(Payment.amount).alias("total"))
            .where(Payment.order == order_id)
            .group_by(Payment.method)
            .order_by(Payment.method.desc()),
        ], [Payment.select(fn.COUNT(Payment.id)).where(Payment.order == order_id)]  # fmt: skip

    lines = [{"sku": "A-1", "variant": {"size": "M"}}, {"sku": "B-2", "final_sale": True},
             {"sku": "C-3"}]  # fmt: skip
    first = factories.store(lines=lines)
    second = factories.store(
        payments=[
            {"method": "card", "reference": "ch_1", "amount": 2500},
            {"method": "gift_card", "reference": "gc", "amount": 1000},
        ]
    )
    line = OrderLine.select().where(OrderLine.order == first.order.id).order_by(OrderLine.id)[0]
    line.delivered_at = datetime.datetime(2026, 11, 30, 23, 59, 58, 123456)
    line.save()
    for store, like in ((first, "nothing"), (second, "%-2"), (first, "A%")):
        expected = [
            [tuple(row) for row in query.tuples()] for query in build(store.order.id, like)[0]
        ]
        with count_queries() as counted:
            *lists, count = prebuilt_tuples("test-tuples", build, order_id=store.order.id,
                                            sku_like=like)  # fmt: skip
        assert counted.count == 1
        assert lists == expected
        assert count == store.order.payments.count()
    rows, payments, count = prebuilt_tuples("test-tuples", build, order_id=first.order.id,
                                            sku_like="nothing")  # fmt: skip
    assert [row[4] for row in rows] == [True, False, False]  # final sale first, then by id
    assert rows[1][3] == {"size": "M"} and rows[1][6] is None
    assert rows[1][5] == datetime.datetime(2026, 11, 30, 23, 59, 58, 123456)
    assert payments == [("card", 3500)] and count == 1
    assert prebuilt_tuples("test-tuples", build, order_id=-1, sku_like="none")[:2] == [[], []]


def test_prebuilt_models_equal_peewees_own_rows_with_joins(database):
    """portal.prebuilt.prebuilt_models: the rows iterating the query gives (joined models attached,
    a LEFT JOIN's missing row as None), each call with its own values, one statement each."""
    from portal.prebuilt import prebuilt_models
    from portal.returns.facts import lines_query

    first, second = factories.store(quantity=2), factories.store()
    returns = [factories.create_return(store.order, reason=store.changed_mind)
               for store in (first, second)]  # fmt: skip
    for rma in (*returns, returns[0]):
        expected = list(lines_query(rma.id))
        with count_queries() as counted:
            rows = prebuilt_models("test-models", lines_query, rma_id=rma.id)
        assert counted.count == 1
        assert [row.__data__ for row in rows] == [row.__data__ for row in expected]
        with count_queries() as reading:
            assert [(r.order_line.__data__, r.reason.__data__, r.swap) for r in rows] == [
                (r.order_line.__data__, r.reason.__data__, r.swap) for r in expected
            ]
        assert reading.count == 0
        for row, want in zip(rows, expected, strict=True):  # ids as Peewee sets them, clean
            for ours, theirs in ((row, want), (row.order_line, want.order_line),
                                 (row.reason, want.reason)):  # fmt: skip
                assert ours.__rel__.keys() == theirs.__rel__.keys()
                assert not ours.is_dirty() and not theirs.is_dirty()
            assert (row.rma_id, row.order_line_id, row.reason_id) == (
                want.rma_id, want.order_line_id, want.reason_id)  # fmt: skip
    assert prebuilt_models("test-models", lines_query, rma_id=-1) == []


def test_prebuilt_together_rows_equal_prebuilt_togethers(database):
    """portal.prebuilt.prebuilt_together_rows: the same instances as prebuilt_together's (fields,
    Python values, aliased columns, order), made directly, nothing dirty."""
    from portal.models import OrderLine, Return
    from portal.prebuilt import prebuilt_together, prebuilt_together_rows

    def build(order_id):
        return [
            OrderLine.select().where(OrderLine.order == order_id).order_by(OrderLine.id.desc()),
            Return.select(Return, fn.LENGTH(Return.reference).alias("length"))
            .where(Return.order == order_id)
            .order_by(Return.created_at, Return.id),
            Payment.select(Payment.method, fn.SUM(Payment.amount).alias("total"))
            .where(Payment.order == order_id)
            .group_by(Payment.method)
            .order_by(Payment.method),
        ], [Payment.select(fn.COUNT(Payment.id)).where(Payment.order == order_id)]  # fmt: skip

    lines = [{"sku": "A-1", "variant": {"size": "M"}}, {"sku": "B-2", "final_sale": True}]
    first, second = factories.store(lines=lines), factories.store()
    factories.create_return(first.order, reason=first.changed_mind)
    factories.create_return(first.order, reason=first.changed_mind)
    for store in (first, second, first):
        expected = prebuilt_together("test-together", build, order_id=store.order.id)
        with count_queries() as counted:
            got = prebuilt_together_rows("test-together-rows", build, order_id=store.order.id)
        assert counted.count == 1
        assert got[-1] == expected[-1]
        for rows, want in zip(got[:-1], expected[:-1], strict=True):
            assert [(type(r), r.__data__) for r in rows] == [(type(r), r.__data__) for r in want]
            assert all(not row.is_dirty() for row in rows)
        assert [r.length for r in got[1]] == [r.length for r in expected[1]]
        assert [(p.method, p.total) for p in got[2]] == [(p.method, p.total) for p in expected[2]]
        assert all(isinstance(line.final_sale, bool) for line in got[0])
        assert all(isinstance(rma.created_at, datetime.datetime) for rma in got[1])
