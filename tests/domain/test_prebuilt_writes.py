"""The refund path's statements built once (portal.prebuilt: prebuilt_create, prebuilt_set,
prebuilt_update, and the reads the refund, its email and the outbox's claim make through
prebuilt_rows / prebuilt_models), each against what Peewee's own statement gives, on SQLite and
PostgreSQL; hypothesis where the values vary."""

import datetime

import pytest
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.db import db
from portal.models import OutboxMessage, Payment, Refund, Return, ReturnEvent, now
from portal.outbox import delivery, handlers
from portal.prebuilt import prebuilt_create, prebuilt_set, prebuilt_update, prebuilt_write
from portal.returns import refund_execution, refund_states
from tests import factories

EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

payloads = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=12)),
    max_size=4,
)
texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                max_size=30)  # fmt: skip
moments = st.datetimes(min_value=datetime.datetime(2000, 1, 1),
                       max_value=datetime.datetime(2100, 1, 1))  # fmt: skip


@pytest.fixture
def database(any_app):
    with any_app.app_context():
        yield


@pytest.fixture
def refund(database):
    placed, payment = factories.paid_order(5000)
    rma, made = factories.one_refund(placed, payment, amount=1500)
    return made


def _row(model, row_id):
    return model.select().where(model._meta.primary_key == row_id).dicts().get()


def _without_id(row):
    return {key: value for key, value in row.items() if key != "id"}


@given(payload=payloads, internal=st.booleans(), kind=texts, with_actor=st.booleans())
@EXAMPLES
def test_prebuilt_create_writes_what_create_writes(refund, payload, internal, kind, with_actor):
    actor = factories.staff() if with_actor else None
    fields = dict(rma=refund.rma_id, kind=kind, actor=actor, internal=internal, payload=payload)
    with db.atomic() as transaction:
        peewee_made = ReturnEvent.create(**fields)
        ours = prebuilt_create(ReturnEvent, **fields)
        assert ours.id is not None and ours.id != peewee_made.id
        assert ours._dirty == peewee_made._dirty == set()
        theirs, mine = _row(ReturnEvent, peewee_made.id), _row(ReturnEvent, ours.id)
        mine["created_at"] = theirs["created_at"]  # made a moment apart
        assert _without_id(mine) == _without_id(theirs)
        assert {**ours.__data__, "id": 0, "created_at": 0} == {
            **peewee_made.__data__, "id": 0, "created_at": 0}  # fmt: skip
        assert ours.actor == peewee_made.actor
        transaction.rollback()


def test_prebuilt_create_of_an_outbox_message_equals_create(refund):
    with db.atomic() as transaction:
        fields = dict(kind="email", payload={"to": "a@example.com", "context": {"n": 1}},
                      rma=Return.get_by_id(refund.rma_id), status="pending")  # fmt: skip
        theirs = OutboxMessage.create(dedupe_key="k1", **fields)
        ours = prebuilt_create(OutboxMessage, dedupe_key="k2", **fields)
        a, b = _row(OutboxMessage, theirs.id), _row(OutboxMessage, ours.id)
        for row in (a, b):
            row.pop("id"), row.pop("dedupe_key"), row.pop("created_at"), row.pop("available_at")
        assert a == b
        assert ours.rma.id == refund.rma_id
        transaction.rollback()


@given(reference=st.one_of(st.none(), texts), error=texts, settled=st.one_of(st.none(), moments),
       attempts=st.integers(0, 2**31 - 1), moved_on=st.booleans())  # fmt: skip
@EXAMPLES
def test_prebuilt_set_is_peewees_update(refund, reference, error, settled, attempts, moved_on):
    status = "succeeded" if moved_on else refund.status
    changes = dict(gateway_reference=reference, last_error=error, settled_at=settled,
                   attempts=attempts)  # fmt: skip
    with db.atomic() as transaction:
        before = _row(Refund, refund.id)
        expected = Refund.update(**changes).where(
            (Refund.id == refund.id) & (Refund.status == status)
        ).execute()  # fmt: skip
        theirs = _row(Refund, refund.id)
        transaction.rollback()
    assert _row(Refund, refund.id) == before
    with db.atomic() as transaction:
        assert prebuilt_set(Refund, changes, id=refund.id, status=status) == expected
        assert _row(Refund, refund.id) == theirs
        transaction.rollback()


def test_prebuilt_set_builds_peewees_sql(refund):
    prebuilt_set(Refund, {"last_error": "x", "attempts": 3}, id=refund.id, status="pending")
    (entry,) = [e for k, e in db.obj.__dict__["_prebuilt"].items()
                if k == ("set", "Refund", ("last_error", "attempts"), ("id", "status"))]  # fmt: skip
    sql, _params = (
        Refund.update(last_error="x", attempts=3)
        .where((Refund.id == refund.id) & (Refund.status == "pending"))
        .sql()
    )
    assert entry[0] == sql


def test_a_prebuilt_write_refuses_a_value_that_is_not_a_parameter(refund):
    # A boolean goes through BooleanField.db_value (bool() of the stand-in): not its own
    # parameter, so it would be built into the SQL as the first call's value.
    with pytest.raises(ValueError, match="not a parameter of its own"):
        prebuilt_write("bad-write",
                       lambda internal: ReturnEvent.update(internal=internal).where(
                           ReturnEvent.id == -1), internal=True)  # fmt: skip


def test_prebuilt_update_gives_the_rows_changed(refund):
    def build(refund_id, error):
        return Refund.update(last_error=error).where(Refund.id == refund_id)

    assert prebuilt_update("test-refund-error", build, refund_id=refund.id, error="e1") == 1
    assert prebuilt_update("test-refund-error", build, refund_id=-5, error="e2") == 0
    assert Refund.get_by_id(refund.id).last_error == "e1"


def test_a_single_refund_move_equals_the_general_one(database):
    """move() of one refund with plain values (one prebuilt compare-and-set, no savepoint)
    leaves the same rows and events as the general path (here forced by an always-true
    only_if), and changes nothing when the row has moved on."""
    placed, payment = factories.paid_order(9000)
    rma = factories.make_return(placed)
    with db.atomic():
        a = factories.make_refund(rma, 1000, payment=payment)
        b = factories.make_refund(rma, 1000, payment=payment)
    at = now()
    changes = dict(attempts=1, processing_started_at=at, first_attempted_at=at,
                   lease_expires_at=at + datetime.timedelta(seconds=30))  # fmt: skip
    with db.atomic():
        assert refund_states.move([a], "start", rma.id, payload={"attempt": 1}, **changes)
        assert refund_states.move([b], "start", rma.id, payload={"attempt": 1},
                                  only_if=(Refund.id == b.id), **changes)  # fmt: skip
    ra, rb = _row(Refund, a.id), _row(Refund, b.id)
    for row in (ra, rb):
        row.pop("id"), row.pop("idempotency_key"), row.pop("created_at")
    assert ra == rb and ra["status"] == "processing"
    assert a.status == b.status == "processing" and a.attempts == b.attempts == 1
    events = {e.payload["refund_id"]: e for e in ReturnEvent.select().where(
        (ReturnEvent.rma == rma.id) & (ReturnEvent.kind == "refund_processing"))}  # fmt: skip
    assert events[a.id].payload == {**events[b.id].payload, "refund_id": a.id, "refunds": [a.id]}
    assert events[a.id].internal is events[b.id].internal is True
    stale = Refund.get_by_id(a.id)
    stale.status = "pending"  # read before it moved on
    count = ReturnEvent.select().count()
    assert refund_states.move([stale], "start", rma.id, attempts=2) is False
    assert _row(Refund, a.id)["attempts"] == 1 and ReturnEvent.select().count() == count


def test_the_refund_path_reads_equal_peewees(refund):
    """The locked refund (with its return's reference), its payment, the return that success
    reads, and the return an email reads with its order: the same values as Peewee's reads."""
    with db.atomic():
        locked = refund_execution._lock(refund.id, reference=True)
        plain = refund_execution._lock(refund.id)
    full = Refund.get_by_id(refund.id)
    assert locked.__data__ == plain.__data__ == full.__data__
    rma = Return.get_by_id(refund.rma_id)
    assert locked.rma_reference == rma.reference
    assert refund_execution.about(locked) == refund_execution.about(full)
    refund_execution._with_payment(plain)
    assert plain.payment.__data__ == Payment.get_by_id(refund.payment_id).__data__
    assert refund_execution._lock(-1) is None
    (emailed,) = handlers.prebuilt_models("email-return", handlers._return_and_order,
                                          rma_id=rma.id)  # fmt: skip
    assert emailed.__data__ == rma.__data__
    assert emailed.order.__data__ == rma.order.__data__


def test_the_outbox_claim_takes_a_message_once(refund):
    message = OutboxMessage.get(OutboxMessage.kind == "refund")
    config = current_app.config
    claimed = delivery.claim(message.id, config)
    expected = (
        OutboxMessage.select(OutboxMessage, Return.reference.alias("rma_reference"))
        .join(Return, on=(OutboxMessage.rma == Return.id))
        .where(OutboxMessage.id == message.id)
        .objects()
        .get()
    )
    assert claimed.__data__ == expected.__data__ and claimed.attempts == message.attempts + 1
    assert claimed.rma_reference == expected.rma_reference
    assert claimed.available_at > now()
    assert delivery.claim(message.id, config) is None  # leased: not due
    OutboxMessage.update(available_at=now()).where(OutboxMessage.id == message.id).execute()
    again = delivery.claim(message.id, config)
    assert again is not None and again.attempts == message.attempts + 2
    assert delivery.claim(-1, config) is None
