"""Property tests of the API against its OpenAPI document (schemathesis): generated requests to
every operation, with a valid key, never get a 500, and every answer matches the document
(status codes, content types, bodies). The document is the one the app serves."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.api import bp
from portal.api.spec import document
from tests import factories
from tests.api_client import call, order_body
from tests.apps import close_db, make_app

schema = schemathesis.openapi.from_dict(document(bp.url_prefix))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """One app for the module (hypothesis runs many examples per test): a store, an order PUT
    through the API with a return on it, and a key with every scope."""
    app = make_app(tmp_path_factory.mktemp("schema"), API_RATE_LIMIT="100000 per minute",
                   IDEMPOTENCY_WAIT_SECONDS=0.2)  # fmt: skip
    with app.app_context():
        made = factories.store()
        _, token = factories.api_key()
    client = app.test_client()
    order = call(client, "PUT", "/api/v1/orders/S-1", token, json=order_body()).get_json()
    call(client, "POST", "/api/v1/returns", token, json={
        "order": "S-1", "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1,
                                   "reason": made.changed_mind.code}]})  # fmt: skip
    yield app, token
    close_db()


def test_the_served_document_is_the_generated_one(api):
    app, _ = api
    served = app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == document(bp.url_prefix)
    assert served.get_json()["openapi"].startswith("3.1")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_500_and_every_answer_matches_the_document(case, api):
    app, token = api
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
