"""How an API operation is declared, run and documented: `operation()` registers a view on the
blueprint with its scopes and its pydantic models; every request then goes through the same
steps (the key and its scope, the Idempotency-Key of a POST, the query and the JSON body
validated, the domain call, the response model), and `document()` builds the OpenAPI 3.1
document from the same declarations, so the document can't drift from what runs."""

import functools
import json
import re
from dataclasses import dataclass, field

from flask import make_response, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from portal.api import auth, idempotency
from portal.api.problems import MEDIA_TYPE, TITLES, ApiProblem, from_domain, validation_errors
from portal.api.schemas import Problem
from portal.returns.errors import DomainError

OPERATIONS = []


@dataclass
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    tag: str
    scopes: tuple
    response: type
    body: type | None = None
    query: type | None = None
    status: int = 200
    versioned: bool = False
    errors: tuple = ()
    description: str = ""
    path_params: dict = field(default_factory=dict)  # {name: JSON schema}


def _json_body(model):
    raw = request.get_data(cache=True)
    if not raw.strip():
        data = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiProblem(400, f"The body is not valid JSON ({exc}). Nothing was changed.",
                             [{"field": "(body)", "message": "is not valid JSON"}]) from None  # fmt: skip
    if not isinstance(data, dict):
        raise ApiProblem(422, "The body must be a JSON object. Nothing was changed.",
                         [{"field": "(body)", "message": "must be an object"}])  # fmt: skip
    return _validate(model, data)


def _validate(model, data):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(exc)
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ApiProblem(422, f"{first['field']}: {first['message']}{more}. Nothing was changed.",
                         errors) from None  # fmt: skip


def _version(body):
    """The version the client based its change on: If-Match, else the body's `version`."""
    header = request.headers.get("If-Match")
    if header:
        text = header.strip().removeprefix("W/").strip('"')
        if not text.isdigit() or len(text) > 10:
            raise ApiProblem(422, "If-Match must be the return's version, e.g. \"3\". Nothing "
                                  "was changed.", [{"field": "If-Match", "message": "not a version"}])  # fmt: skip
        return int(text)
    return getattr(body, "version", None)


def _answer(op, result):
    status = op.status
    if isinstance(result, tuple):
        result, status = result
    if not isinstance(result, BaseModel):
        result = op.response.model_validate(result)
    response = make_response(result.model_dump_json(), status)
    response.mimetype = "application/json"
    version = getattr(result, "version", None)
    if isinstance(version, int) and hasattr(result, "reference"):
        response.headers["ETag"] = f'"{version}"'
    return response


def _run(op, view, path):
    kwargs = dict(path)
    if op.query is not None:
        kwargs["query"] = _validate(op.query, request.args.to_dict())
    if op.body is not None:
        kwargs["body"] = _json_body(op.body)
        if op.versioned:
            kwargs["version"] = _version(kwargs["body"])
    try:
        return _answer(op, view(**kwargs))
    except DomainError as exc:
        raise from_domain(exc) from None


def operation(bp, method, rule, *, summary, tag, scopes, response, body=None, query=None,
              status=200, versioned=False, errors=(), description="", path_params=None):  # fmt: skip
    """Declare one API operation on `bp` (a Flask rule such as "/returns/<reference>")."""

    def decorator(view):
        op = Operation(method, rule, view.__name__, summary, tag, tuple(scopes), response, body,
                       query, status, versioned, tuple(errors), description,
                       path_params or {})  # fmt: skip
        OPERATIONS.append(op)

        def handle(**path):
            auth.require(op.scopes)
            if method == "POST":
                return idempotency.run(lambda: _run(op, view, path))
            return _run(op, view, path)

        handle.__name__ = view.__name__
        handle.__doc__ = view.__doc__
        bp.add_url_rule(rule, view.__name__, handle, methods=[method])
        return view

    return decorator


# --- the document -------------------------------------------------------------------------------

COMMON_ERRORS = (401, 403, 404, 429)
PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def _problem(status):
    return {
        "description": TITLES.get(status, "Error"),
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _query_parameters(model, schema):
    params = []
    for name, prop in schema.get("properties", {}).items():
        if "anyOf" in prop:  # a query parameter is absent rather than null
            options = [o for o in prop["anyOf"] if o.get("type") != "null"]
            rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
            prop = {**rest, **options[0]} if len(options) == 1 else {**rest, "anyOf": options}
        params.append({"name": name, "in": "query", "required": False, "schema": prop,
                       "description": model.model_fields[name].description or ""})  # fmt: skip
    return params


def _operation(op, prefix, names, schemas):
    path = prefix + PARAM.sub(r"{\1}", op.rule)
    params = [
        {"name": name, "in": "path", "required": True,
         "schema": op.path_params.get(name, {"type": "string", "minLength": 1,
                                              "maxLength": 255})}
        for name in PARAM.findall(op.rule)
    ]  # fmt: skip
    if op.query is not None:
        params += _query_parameters(op.query, schemas[names[op.query, "validation"]["$ref"]])
    statuses = set(COMMON_ERRORS) | set(op.errors)
    if op.body is not None or op.query is not None:
        statuses.add(422)
    if op.method == "POST":
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                       "description": "Retry safely: the first answer is stored and replayed "
                                      "for the same key and body."})  # fmt: skip
        statuses |= {409, 422}
    if op.versioned:
        params.append({"name": "If-Match", "in": "header", "required": False,
                       "schema": {"type": "string", "pattern": '^"?[0-9]{1,9}"?$'},
                       "description": "The return's version (its ETag)."})  # fmt: skip
        statuses.add(409)
    if op.body is not None:
        statuses.add(400)
    spec = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "security": [{"bearer": list(op.scopes)}],
        "parameters": params,
        "responses": {
            str(op.status): {
                "description": "OK",
                "content": {"application/json": {"schema": names[op.response, "serialization"]}},
            },
            **{str(code): _problem(code) for code in sorted(statuses)},
        },
    }
    if op.description:
        spec["description"] = op.description
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": names[op.body, "validation"]}},
        }
    return path, op.method.lower(), spec


@functools.cache
def document(prefix):
    """The OpenAPI 3.1 document of every declared operation (built once per process; the
    operations are all declared at import). Callers must not change it."""
    models = {(Problem, "serialization")}
    for op in OPERATIONS:
        models.add((op.response, "serialization"))
        for model in (op.body, op.query):
            if model is not None:
                models.add((model, "validation"))
    names, defs = models_json_schema(
        sorted(models, key=lambda m: (m[0].__name__, m[1])),
        ref_template="#/components/schemas/{model}",
    )
    schemas = defs.get("$defs", {})
    by_ref = {f"#/components/schemas/{name}": value for name, value in schemas.items()}
    paths = {}
    for op in OPERATIONS:
        path, method, spec = _operation(op, prefix, names, by_ref)
        paths.setdefault(path, {})[method] = spec
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Returns Portal API",
            "version": "1.0.0",
            "description": "Orders in, returns driven by their next actions. See docs/api.md.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API key from /merchant/api-keys"}},
        },
    }  # fmt: skip
