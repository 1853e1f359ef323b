"""The portal's floor: what any signed-in portal page costs before it does its own work.

The portal app itself (`create_app()`, the same config and extensions: session cookie,
flask-login loading the user from the database, CSRF token, a database connection per request,
the base layout with its navigation) with one extra route, `GET /_bench/floor?bytes=N`, that
runs no query of its own and renders the baseline's rows inside base.html to exactly N bytes.
Comparing a page with the floor tells its own work (queries, templates) from the framework's
fixed cost; comparing the floor with the bare-Flask baseline tells that fixed cost.

    gunicorn -w 2 -b 127.0.0.1:8200 --pythonpath bench floor_app:app   (the portal's env)

`install(app)` adds the route to an app made elsewhere (bench/profile_page.py does, in
process); `app` itself is made on first use, so importing this module makes no app.
"""

from flask import render_template, request
from flask_login import current_user, login_required
from jinja2 import ChoiceLoader, DictLoader

from portal import create_app

TEMPLATE = """{% extends "base.html" %}
{% block title %}Floor{% endblock %}
{% block content %}
<table>
  {% for row in rows %}<tr class="row"><td class="reference"><a href="/items/{{ row.number }}">{{ row.name }}</a></td><td class="status"><span class="badge">{{ row.status }}</span></td></tr>
  {% endfor %}
</table>
<!-- {{ pad }} -->
{% endblock %}"""
ROW = {"number": "00000000", "name": "Item 00000000", "status": "requested"}
_shapes = {}


def _render(rows, pad):
    return render_template("floor.html", rows=rows, pad=pad)


def _shape(size):
    """Rows and padding for a page of `size` bytes for this user (the layout shows their
    name), worked out once per user and size."""
    key = (size, current_user.get_id())
    if key not in _shapes:
        empty = len(_render([], "").encode())
        per_row = len(_render([ROW], "").encode()) - empty
        rows = max(0, (size - empty) // per_row)
        _shapes[key] = (rows, max(0, size - empty - rows * per_row))
    return _shapes[key]


def floor():
    count, pad = _shape(request.args.get("bytes", type=int, default=10_000))
    rows = [
        {"number": f"{n:08d}", "name": f"Item {n:08d}", "status": "requested"} for n in range(count)
    ]
    return _render(rows, "x" * pad)


def install(app):
    """The floor route on `app` (a portal app), its template loaded (and compiled once, like
    every portal template) from memory beside the portal's own."""
    app.jinja_env.loader = ChoiceLoader(
        [app.jinja_env.loader, DictLoader({"floor.html": TEMPLATE})]
    )
    app.add_url_rule("/_bench/floor", "bench_floor", login_required(floor))
    return app


def __getattr__(name):  # gunicorn's floor_app:app
    if name == "app":
        globals()["app"] = install(create_app())
        return globals()["app"]
    raise AttributeError(name)
