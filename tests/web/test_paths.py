"""portal.paths: PathFor and path_for give the same path as url_for for any value, in a request and
under an application root (SCRIPT_NAME)."""

from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.paths import PathFor

values = st.text(min_size=1, max_size=30) | st.from_regex(r"[A-Z0-9-]{1,12}", fullmatch=True)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values)
def test_path_for_equals_url_for(app, value):  # the app is only read: shared by the examples
    for root in ("", "/shop"):
        with app.test_request_context("/orders", environ_base={"SCRIPT_NAME": root}):
            for endpoint in ("customer.order_detail", "customer.request_return"):
                assert PathFor(endpoint)(value) == url_for(endpoint, number=value)


def test_path_for_other_keys(app):
    with app.test_request_context("/returns"):
        path = PathFor("customer.return_detail", key="reference")
        assert path("R-2026-0001") == url_for("customer.return_detail", reference="R-2026-0001")
        assert path("a b/ü") == url_for("customer.return_detail", reference="a b/ü")


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reference=values, photo=st.integers(0, 10**9))
def test_path_for_with_any_values_equals_url_for(app, reference, photo):
    from portal.paths import path_for

    for root in ("", "/shop"):
        with app.test_request_context("/returns", environ_base={"SCRIPT_NAME": root}):
            assert path_for("customer.returns") == url_for("customer.returns")
            for endpoint in ("customer.confirm_cancel", "customer.credit_note"):
                assert path_for(endpoint, reference=reference) == url_for(
                    endpoint, reference=reference
                )
            assert path_for("customer.return_photo", reference=reference, photo_id=photo) == (
                url_for("customer.return_photo", reference=reference, photo_id=photo)
            )
            # a key url_for puts in the query string
            assert path_for("customer.returns", page=photo) == url_for(
                "customer.returns", page=photo
            )
