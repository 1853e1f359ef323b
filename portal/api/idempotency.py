"""Idempotency-Key on every POST: the first answer (its status, body and headers) is stored
for the calling API key and replayed for the same key and the same request (method, path and
body); the same key with another request is a 422. A second request with a key whose first
request is still running waits up to IDEMPOTENCY_WAIT_SECONDS for its answer, then gets a 409.
Answers of 5xx are not stored: the retry runs again. The rows live in portal.returns.idempotency."""

import hashlib
import time

from flask import current_app, g, make_response, request

from portal.api.problems import ApiProblem, from_problem
from portal.returns import idempotency as store

HEADER = "Idempotency-Key"
KEPT_HEADERS = ("Content-Type", "ETag", "Location")


def _replay(row):
    response = make_response(row.body or "", row.status)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def run(call):
    """Answer the current POST through `call()` at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None:
        return call()
    key = key.strip()
    if not key or len(key) > 255:
        raise ApiProblem(422, f"{HEADER} must be 1 to 255 characters. Nothing was changed.",
                         [{"field": HEADER, "message": "1 to 255 characters"}])  # fmt: skip
    config = current_app.config
    digest = hashlib.sha256(
        b"%s %s\n%s" % (request.method.encode(), request.path.encode(), request.get_data())
    ).hexdigest()
    api_key = g.api_key
    state, row = store.claim(api_key.id, key, request.method, request.path, digest,
                             config["IDEMPOTENCY_KEEP_SECONDS"])  # fmt: skip
    deadline = time.monotonic() + config["IDEMPOTENCY_WAIT_SECONDS"]
    while state == store.RUNNING:
        if time.monotonic() >= deadline:
            raise ApiProblem(409, f"A request with this {HEADER} is still being processed: "
                                  "retry in a moment to get its answer.")  # fmt: skip
        time.sleep(0.05)
        row = store.peek(row.id)
        if row is None:  # the first one failed and let go: run this one
            state, row = store.claim(api_key.id, key, request.method, request.path, digest,
                                     config["IDEMPOTENCY_KEEP_SECONDS"])  # fmt: skip
        elif row.status is not None:
            state = store.DONE
    if state == store.MISMATCH:
        raise ApiProblem(422, f"This {HEADER} was already used with a different request. "
                              "Use a new key for a new request. Nothing was changed.",
                         [{"field": HEADER, "message": "used with another request"}])  # fmt: skip
    if state == store.DONE:
        return _replay(row)
    try:
        response = call()
    except ApiProblem as problem:
        response = from_problem(problem)
    except BaseException:
        store.release(row.id)
        raise
    if response.status_code >= 500:
        store.release(row.id)
        return response
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    store.save(row.id, response.status_code, response.get_data(as_text=True), headers)
    return response
