"""Merchant side: the returns queue. Staff only; permissions checked on every request."""

from flask import Blueprint, render_template

from portal.auth.roles import staff_required

bp = Blueprint("merchant", __name__, url_prefix="/merchant")


@bp.route("/returns")
@staff_required
def queue():
    return render_template("merchant/queue.html", returns=[])
