"""The JSON API, /api/v1: orders in, returns read and driven by their next actions. A thin web
layer like the other blueprints: each view parses its input (pydantic models, schemas.py),
calls one domain function and answers JSON. Keys and scopes (auth.py), Idempotency-Key
(idempotency.py), problem documents (problems.py), the operations and the OpenAPI document
(spec.py). CSRF-exempt (no browser posts here, a bearer key is required) and rate limited per
key (API_RATE_LIMIT). Errors under /api/ that no view answers (404, 405, 413) are problem
documents too (portal.web's handlers ask problems.from_http_error)."""

from flask import Blueprint, current_app
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import InternalServerError

from portal.api.auth import rate_limit_key
from portal.api.problems import ApiProblem, from_http_error, from_problem
from portal.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(bp)


@bp.errorhandler(ApiProblem)
def _problem(problem):
    return from_problem(problem)


@bp.errorhandler(RateLimitExceeded)
def _too_many(error):
    return from_http_error(error)


@bp.errorhandler(InternalServerError)
def _server_error(error):
    return from_http_error(InternalServerError())


def init_app(app):
    app.register_blueprint(bp)


from portal.api import docs, orders, returns  # noqa: E402, F401  (routes on bp)
