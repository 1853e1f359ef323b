"""The search suffixes of migration 0020 (SQLite): whatever is written to returns and orders,
by the domain or by raw SQL, return_suffix holds exactly every suffix of three characters or
more of each return's reference, email, order number and order email, lower-cased; and the
queue's search through it finds exactly the returns a substring match would."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.db import db
from portal.models import Order, Return
from portal.returns import queue
from tests import factories

TEXT = st.text(alphabet="aAbZ1-.@ä", max_size=7)


def _texts():
    rows = db.execute_sql(
        'SELECT r."id", r."reference", r."email", o."number", o."email" '
        'FROM "return" AS r JOIN "order" AS o ON o."id" = r."order_id"'
    ).fetchall()
    return {rma_id: texts for rma_id, *texts in rows}


def _ascii_lower(text):
    return "".join(c.lower() if c.isascii() else c for c in text)  # SQLite's lower()


def _expected_suffixes():
    return {
        (_ascii_lower(text)[i:], rma_id)
        for rma_id, texts in _texts().items()
        for text in texts
        for i in range(len(text) - 2)
    }


def _stored_suffixes():
    return set(db.execute_sql('SELECT "suffix", "rma_id" FROM "return_suffix"').fetchall())


def test_suffixes_follow_every_write_and_the_search_is_a_substring_match(app):
    with app.app_context():
        reason = factories.reason()
        orders = [factories.order(lines=[{"sku": f"S{n}", "quantity": 3}]) for n in range(3)]
        for order in orders:
            factories.create_return(order, reason=reason)
        assert _stored_suffixes() == _expected_suffixes()

        write = st.one_of(
            st.tuples(st.just("reference"), st.integers(0, 9), TEXT),
            st.tuples(st.just("email"), st.integers(0, 9), TEXT),
            st.tuples(st.just("order"), st.integers(0, 9), st.integers(0, 2)),
            st.tuples(st.just("number"), st.integers(0, 2), TEXT),
            st.tuples(st.just("order_email"), st.integers(0, 2), TEXT),
            st.tuples(st.just("delete"), st.integers(0, 9), st.just(None)),
            st.tuples(st.just("new"), st.integers(0, 2), st.just(None)),
        )

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        @given(writes=st.lists(write, max_size=6), terms=st.lists(TEXT, max_size=4))
        def check(writes, terms):
            for kind, n, value in writes:
                ids = sorted(_texts())
                rma_id = ids[n % len(ids)] if ids else None
                order_id = orders[n % 3].id
                if kind in ("reference", "email") and rma_id:
                    text = f"{value}{rma_id}" if kind == "reference" else value
                    db.execute_sql(f'UPDATE "return" SET "{kind}" = ? WHERE "id" = ?',
                                   (text, rma_id))  # fmt: skip
                elif kind == "order" and rma_id:
                    Return.update(order=orders[value].id).where(Return.id == rma_id).execute()
                elif kind == "number":
                    Order.update(number=f"{value}{order_id}").where(Order.id == order_id).execute()
                elif kind == "order_email":
                    db.execute_sql('UPDATE "order" SET "email" = ? WHERE "id" = ?',
                                   (value, order_id))  # fmt: skip
                elif kind == "delete" and rma_id:
                    for table in ("return_line", "return_event"):
                        db.execute_sql(f'DELETE FROM "{table}" WHERE "rma_id" = ?', (rma_id,))
                    db.execute_sql('DELETE FROM "return" WHERE "id" = ?', (rma_id,))
                elif kind == "new":
                    factories.create_return(Order.get_by_id(order_id), reason=reason)
                assert _stored_suffixes() == _expected_suffixes(), (kind, n, value)
            for term in [t.lower() for t in terms if len(t) >= 3]:
                want = {
                    rma_id
                    for rma_id, texts in _texts().items()
                    if any(term in _ascii_lower(text) for text in texts)
                }
                got = {rma_id for (rma_id,) in db.execute(queue._matching(term))}
                assert got == want, term

        check()


def test_a_search_reads_one_range_of_the_suffix_index(app):
    with app.app_context():
        plan = db.execute_sql(
            "EXPLAIN QUERY PLAN " + db.obj.get_sql_context().sql(queue._matching("abc")).query()[0],
            ["abc", "abc\U0010ffff"],
        ).fetchall()
        assert [row[-1] for row in plan] == ["SEARCH t1 USING PRIMARY KEY (suffix>? AND suffix<?)"]
