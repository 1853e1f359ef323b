"""The baseline for page figures: a bare Flask route rendering a template of a given size.

`GET /page?bytes=N` renders templates/baseline.html (a loop of table rows, autoescaped, about one
variable per 50 bytes of markup, like the portal's listing pages) and returns exactly N bytes, so
each portal page is compared with a page of the same size served by the same gunicorn settings.
No database, no session, no extensions.

    gunicorn -w 2 -b 127.0.0.1:8100 --pythonpath bench baseline_app:app
"""

from pathlib import Path

from flask import Flask, render_template, request

app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))

ROW = {"number": "00000000", "name": "Item 00000000", "status": "requested"}
_shapes = {}


def _shape(size):
    """How many rows and how much padding make a page of `size` bytes (worked out once)."""
    if size not in _shapes:
        empty = len(render_template("baseline.html", title="Baseline", rows=[], pad="").encode())
        one = len(render_template("baseline.html", title="Baseline", rows=[ROW], pad="").encode())
        per_row = one - empty
        rows = max(0, (size - empty) // per_row)
        _shapes[size] = (rows, max(0, size - empty - rows * per_row))
    return _shapes[size]


@app.route("/page")
def page():
    size = request.args.get("bytes", type=int, default=10_000)
    count, pad = _shape(size)
    rows = [
        {"number": f"{n:08d}", "name": f"Item {n:08d}", "status": "requested"} for n in range(count)
    ]
    return render_template("baseline.html", title="Baseline", rows=rows, pad="x" * pad)
