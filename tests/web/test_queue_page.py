"""The queue page's fast paths (portal/merchant/queue_page.py) give what the slow ones do: the
filter values it accepts are exactly ones the WTForms form accepts, with the same data and the
same HTML; its links are url_for's; its rows' status cells are the template's."""

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from portal.merchant import queue_page
from portal.merchant.queue import filters_of, form_data
from portal.paths import PathFor
from portal.returns import pickers
from portal.returns.queue import SORTS
from tests import factories

SLOW = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def picked(app):
    """Reasons and staff (names with characters to escape) and the pickers' generation."""
    with app.app_context():
        factories.reasons()
        factories.reason(code="odd", label='Odd "quotes" & <tags>')
        for name in ("O'Brien & Co", "Zoë <b>", ""):
            staff = factories.staff("agent")
            staff.name = name
            staff.save()
        generation = pickers.current_generation()
        staff = pickers.active_staff(generation)
        reason_ids = [str(r.id) for r in pickers.reasons(generation)]
    return app, generation, staff, reason_ids


def _texts():
    return st.one_of(
        st.none(),
        st.sampled_from(
            [
                "",
                " ",
                "RMA-1",
                "a@b.co",
                "2025-01-31",
                "2025-1-5",
                "2025-02-30",
                "x" * 100,
                "y" * 101,
                " " * 120,
                "<\"&'>",
                "31/01/2025",
            ]
        ),  # fmt: skip
        st.text(max_size=12),
    )


def _args(reason_ids, staff_ids):
    def select(values):
        return st.one_of(st.none(), st.sampled_from(values), st.text(max_size=4))

    field = {
        "q": _texts(),
        "date_from": _texts(),
        "date_to": _texts(),
        "reason": select(["", *reason_ids]),
        "responsible": select(["", "me", "none", *staff_ids]),
        "sort": select(["", *SORTS]),
    }

    def build(values, repeated):
        args = MultiDict()
        for name, value in values.items():
            if value is not None:
                args.add(name, value)
                if name in repeated:
                    args.add(name, value)
        return args

    values = st.fixed_dictionaries(field)
    repeated = st.sets(st.sampled_from(sorted(field)), max_size=1)
    return st.builds(build, values, repeated)


def test_accepted_filter_values_give_the_forms_data_and_html(picked):
    app, generation, staff, reason_ids = picked
    staff_ids = [str(u.id) for u in staff]

    @SLOW
    @given(_args(reason_ids, staff_ids))
    def check(args):
        with app.test_request_context("/merchant/returns", query_string=args):
            form = queue_page.new_form(args, staff, generation)
            valid = form.validate()
            values = queue_page.valid_values(args, staff, generation)
            if values is None:  # refused: the form says why, unless a value was repeated
                assert not valid or any(len(args.getlist(n)) > 1 for n in queue_page.FIELDS)
                return
            assert valid, form.errors
            assert queue_page.data_of(values) == {n: form[n].data for n in queue_page.FIELDS}
            fast = queue_page.fast_fields(values, staff, generation)
            assert fast == queue_page.rendered_fields(form)
            sort = queue_page.data_of(values)["sort"]
            assert queue_page.sort_oob(value=sort) == queue_page.sort_oob(form)

    with app.app_context():
        check()


def test_filters_from_the_fast_path_are_the_forms(picked, app):
    app, generation, staff, reason_ids = picked
    query = {"q": " Ada@Example.com ", "reason": reason_ids[1], "responsible": "me",
             "date_from": "2025-01-02", "sort": "oldest", "page": "3"}  # fmt: skip
    args = MultiDict(query)
    with app.app_context(), app.test_request_context("/merchant/returns", query_string=query):
        from flask_login import login_user

        from portal.models import User

        login_user(User.get_by_id(staff[0].id))
        values = queue_page.valid_values(args, staff, generation)
        form = queue_page.new_form(args, staff, generation)
        assert form.validate()
        assert filters_of(queue_page.data_of(values)) == filters_of(form_data(form))


_arg = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
_query = st.dictionaries(
    st.sampled_from(["status", "q", "reason", "from", "to", "sort", "page"]),
    st.one_of(_arg, st.integers(0, 10**6)),
    max_size=4,
)


def test_links_are_url_fors(app):
    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_query, _arg.filter(bool), _arg.filter(bool))
    def check(args, reference, number):
        base = url_for("merchant.queue")
        assert queue_page.queue_href(base, args) == url_for("merchant.queue", **args)
        detail = PathFor("merchant.detail", key="reference")
        link = detail(reference)
        assert link == url_for("merchant.detail", reference=reference)
        order = PathFor("merchant.order")
        assert order(number) == url_for("merchant.order", number=number)

    with app.test_request_context("/"):
        check()


def test_a_status_cell_is_rendered_once_per_kind_of_row(picked):
    """Rows of the same kind, status and refund flags share one rendered cell, the
    template's."""
    app, *_ = picked
    with app.app_context():
        order = factories.order(lines=[{"sku": "S", "quantity": 2}])
        factories.create_return(order, reason=factories.reason())
        factories.create_return(
            factories.order(lines=[{"sku": "T", "quantity": 1}]), reason=factories.reason()
        )
        from portal.returns.queue import Filters, page_of

        rows = page_of(Filters(status="all"), 20).items
        with app.test_request_context("/merchant/returns"):
            import datetime

            shown = queue_page.shown_rows(rows, datetime.datetime.now())
    assert len(shown) == 2 and shown[0].status_cell is shown[1].status_cell
    assert shown[0].status_cell == '<span class="badge status-requested">Requested</span>\n' + (
        " " * 10 + "\n" + " " * 10
    )
    assert sorted((r.received, r.requested) for r in shown) == [(0, 1), (0, 2)]


# The macro the queue's links were rendered by; queue_page.queue_links() must give its HTML.
QLINK_MACRO = """{% macro qlink(label, args, current=false, rel=none) -%}
{% set href = queue_href(args) %}
<a href="{{ href }}" hx-get="{{ href }}" hx-target="#queue-results" hx-swap="outerHTML" hx-push-url="true"
   {% if current %}aria-current="page"{% endif %}{% if rel %} rel="{{ rel }}"{% endif %}>{{ label }}</a>
{%- endmacro %}"""


def test_queue_links_are_the_macros(app):
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_arg, _query, st.booleans(), st.one_of(st.none(), st.sampled_from(["prev", "next"]),
                                                 _arg))  # fmt: skip
    def check(label, args, current, rel):
        base = url_for("merchant.queue")
        module = app.jinja_env.from_string(QLINK_MACRO).make_module(
            {"queue_href": lambda a: url_for("merchant.queue", **a)}
        )
        expected = module.qlink(label, args, current, rel)
        assert queue_page.queue_links(base)(label, args, current, rel) == expected

    with app.test_request_context("/"):
        check()
