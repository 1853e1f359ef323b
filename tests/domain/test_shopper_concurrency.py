"""Rule 1 under real concurrency: several threads, each with its own database connection,
request the same order line at the same moment. Together they never get more than was bought;
the others are told so in words (QuantityExceeded). SQLite (BEGIN IMMEDIATE) and PostgreSQL
(SELECT ... FOR UPDATE on the order's lines)."""

import threading

import pytest

from portal.db import db
from portal.models import Counter, Order, OrderLine, Return, ReturnLine, User
from portal.returns import eligibility
from portal.returns.errors import QuantityExceeded
from portal.returns.quantities import taken_by_line
from portal.returns.requests import request_return

THREADS = 8


def _setup(app, make, bought):
    with app.app_context(), db.connection_context():
        make.policy()  # the policy row exists before the race
        user = make.user()
        reason = make.reason()
        order = make.order(customer=user, lines=[{"quantity": bought}])
        return order.id, order.lines.get().id, reason.id, user.id


def _race(app, order_id, line_id, reason_id, user_id, quantity):
    barrier = threading.Barrier(THREADS)
    results = []
    lock = threading.Lock()

    def shopper():
        with app.app_context(), db.connection_context():
            order, user = Order.get_by_id(order_id), User.get_by_id(user_id)
            barrier.wait(timeout=60)
            try:
                rma = request_return(order, user, user.email, [(line_id, quantity, reason_id)])
                outcome = ("won", rma.reference)
            except QuantityExceeded as exc:
                outcome = ("lost", str(exc))
            except Exception as exc:  # anything else is a bug: report it, don't hang
                outcome = ("error", repr(exc))
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=shopper) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == THREADS, results
    return results


def _check(app, results, line_id, bought, quantity):
    errors = [r for r in results if r[0] == "error"]
    assert not errors, errors
    won = [r[1] for r in results if r[0] == "won"]
    lost = [r[1] for r in results if r[0] == "lost"]
    assert len(won) == bought // quantity  # everything that fits was granted, no more
    assert len(set(won)) == len(won)  # every winner has its own reference
    for message in lost:
        assert "“Item 1”" in message
        assert ("Only" in message and "can still be returned" in message) or (
            "already returned or in a return request" in message
        ), message
    with app.app_context(), db.connection_context():
        total = sum(
            ln.quantity for ln in ReturnLine.select().where(ReturnLine.order_line == line_id)
        )
        assert total == len(won) * quantity
        # ... and never more than was bought, as the order line's own accounting says: what
        # is still returnable is exactly what the winners left.
        line = OrderLine.get_by_id(line_id)
        assert taken_by_line([line_id]) == {line_id: total}
        verdicts = {e.line.id: e.verdict for e in eligibility.for_order(line.order)}
        assert verdicts[line_id].returnable == bought - total
        assert Return.select().count() == len(won)
        assert Counter.get(Counter.name.startswith("rma:")).value == len(won)


@pytest.mark.parametrize(("bought", "quantity"), [(3, 1), (3, 2), (5, 2)])
def test_concurrent_requests_on_sqlite(app, make, bought, quantity):
    ids = _setup(app, make, bought)
    results = _race(app, *ids, quantity)
    _check(app, results, ids[1], bought, quantity)


@pytest.mark.postgres
@pytest.mark.parametrize(("bought", "quantity"), [(3, 1), (5, 2)])
def test_concurrent_requests_on_postgresql(pg_app, make, bought, quantity):
    ids = _setup(pg_app, make, bought)
    results = _race(pg_app, *ids, quantity)
    _check(pg_app, results, ids[1], bought, quantity)
