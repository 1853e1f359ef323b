"""Errors of the API as problem documents (RFC 9457, application/problem+json): a title, the
HTTP status, a `detail` a person can read and, for bad input, `errors` per field. Every answer
under /api/ is JSON, including 404, 405, 413, 429 and 500."""

from flask import json, make_response, request
from werkzeug.exceptions import HTTPException

from portal.returns.errors import Conflict, NotAllowed, NotFound

PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
}


class ApiProblem(Exception):
    """Raised anywhere in an API view: answered as a problem document; nothing was changed."""

    def __init__(self, status, detail, errors=None, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def is_api_request():
    return request.path.startswith(PREFIX)


def problem_response(status, detail, errors=None, headers=None):
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = make_response(json.dumps(body), status)
    response.mimetype = MEDIA_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_problem(problem):
    return problem_response(problem.status, problem.detail, problem.errors, problem.headers)


def from_domain(error):
    """A DomainError's status: 404 gone, 403 not allowed, 409 changed meanwhile, 422 refused."""
    if isinstance(error, NotFound):
        status = 404
    elif isinstance(error, NotAllowed):
        status = 403
    elif isinstance(error, Conflict):
        status = 409
    else:
        status = 422
    return ApiProblem(status, f"{error} Nothing was changed." if status != 404 else str(error))


HTTP_DETAILS = {
    404: "There is nothing at this address in the API.",
    405: "This address doesn't answer that method.",
    413: "The request body is too large.",
    429: "Too many requests with this key: slow down and retry after the time in Retry-After.",
}


def from_http_error(error):
    """A werkzeug HTTPException (404, 405, 413, 429, a CSRF 400, ...) under /api/ as a problem."""
    status = error.code if isinstance(error, HTTPException) and error.code else 500
    detail = HTTP_DETAILS.get(status) or (
        error.description if isinstance(error, HTTPException) else "Something went wrong."
    )
    response = problem_response(status, detail)
    if isinstance(error, HTTPException):
        for name, value in error.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
    return response


def validation_errors(exc):
    """pydantic's ValidationError as [{field, message}] (the field as a dotted path)."""
    errors = []
    for item in exc.errors(include_url=False):
        field = ".".join(str(part) for part in item.get("loc", ())) or "(body)"
        message = item.get("msg", "is not valid")
        if item.get("type") == "extra_forbidden":
            message = "is not a known field"
        errors.append({"field": field, "message": message})
    return errors
