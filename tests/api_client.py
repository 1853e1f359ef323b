"""Calling the JSON API from tests: the bearer header, JSON bodies, and reading problems."""

import json as jsonlib


def bearer(token, **headers):
    return {"Authorization": f"Bearer {token}", **headers}


def call(client, method, path, token=None, json=None, data=None, headers=None):
    """One request; `json` is sent as a JSON body, `data` as raw bytes (malformed bodies)."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    body = data if data is not None else (jsonlib.dumps(json) if json is not None else None)
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    return client.open(path, method=method, data=body, headers=sent)


def is_problem(response, status):
    """The answer is a problem document (RFC 9457) with `status` and a readable detail."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"], body
    return body
