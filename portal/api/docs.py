"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, built from the declared operations."""

from flask import jsonify

from portal.api import bp
from portal.api.spec import document


@bp.route("/openapi.json")
def openapi():
    """The document (no key needed: it describes, it reveals no data)."""
    return jsonify(document(bp.url_prefix))
