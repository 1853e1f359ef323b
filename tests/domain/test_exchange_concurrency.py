"""The last unit under real concurrency: 20 shoppers, each with their own order and database
connection, ask at the same moment for the last unit of a variant as an exchange. Exactly one
gets the reservation; the others are told it is out of stock, and nothing of theirs is written.
Cancelling the winner's return frees the unit for the next shopper. SQLite (BEGIN IMMEDIATE
serialises writers) and PostgreSQL (SELECT ... FOR UPDATE on the variant)."""

import threading

import pytest

from portal.db import db
from portal.models import Order, Replacement, Return, User, Variant
from portal.returns import catalogue, requests
from portal.returns.errors import DomainError
from portal.returns.requests import Selection

SHOPPERS = 20
TEE = {"sku": "TEE-M", "title": "Classic tee", "quantity": 1, "unit_price": 2500, "unit_tax": 500}


def _setup(app, make):
    with app.app_context(), db.connection_context():
        make.policy()  # the policy row exists before the race
        make.location("MAIN")
        make.product("TEE", [("TEE-M", {"size": "M"}, 2500, 500, 10),
                             ("TEE-L", {"size": "L"}, 2500, 500, 1)],
                     title="Classic tee", location="MAIN")  # fmt: skip
        reason = make.reason(code="fit", label="It doesn't fit")
        people = []
        for i in range(SHOPPERS + 1):
            user = make.user(f"racer{i}@example.com")
            order = make.order(customer=user, lines=[TEE])
            people.append((user.id, order.id, order.lines.get().id))
        large = Variant.get(Variant.sku == "TEE-L").id
        return people, reason.id, large


def _ask(user_id, order_id, line_id, reason_id, variant_id):
    user, order = User.get_by_id(user_id), Order.get_by_id(order_id)
    return requests.request_return(order, user, user.email,
                                   [Selection(line_id, 1, reason_id, "", (), variant_id)])  # fmt: skip


def _race(app, people, reason_id, variant_id):
    barrier = threading.Barrier(len(people))
    results, lock = [], threading.Lock()

    def shopper(person):
        with app.app_context(), db.connection_context():
            barrier.wait(timeout=60)
            try:
                outcome = ("won", _ask(*person, reason_id, variant_id).reference)
            except DomainError as exc:
                outcome = ("lost", str(exc))
            except Exception as exc:  # anything else is a bug: report it, don't hang
                outcome = ("error", repr(exc))
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=shopper, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == len(people), results
    return results


def _check(app, people, reason_id, variant_id):
    results = _race(app, people[:SHOPPERS], reason_id, variant_id)
    assert not [r for r in results if r[0] == "error"], results
    won = [r[1] for r in results if r[0] == "won"]
    lost = [r[1] for r in results if r[0] == "lost"]
    assert len(won) == 1, results
    assert len(lost) == SHOPPERS - 1
    assert all("“L” is out of stock" in message for message in lost), lost
    with app.app_context(), db.connection_context():
        [held] = Replacement.select().where(Replacement.held > 0)
        assert (held.variant_id, held.held) == (variant_id, 1)
        assert Return.select().count() == 1  # the losers wrote nothing
        assert catalogue.available([variant_id]) == {variant_id: 0}
        winner = Return.get(Return.reference == won[0])
        requests.cancel_return(winner, User.get_by_id(winner.requested_by_id))
        assert catalogue.available([variant_id]) == {variant_id: 1}
        # ... and the next shopper gets it.
        late = _ask(*people[SHOPPERS], reason_id, variant_id)
        assert Replacement.get(Replacement.held > 0).line.rma_id == late.id


def test_twenty_shoppers_and_the_last_unit_on_sqlite(app, make):
    people, reason_id, variant_id = _setup(app, make)
    _check(app, people, reason_id, variant_id)


@pytest.mark.postgres
def test_twenty_shoppers_and_the_last_unit_on_postgresql(pg_app, make):
    people, reason_id, variant_id = _setup(pg_app, make)
    _check(pg_app, people, reason_id, variant_id)
