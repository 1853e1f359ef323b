"""Staff order view and staff-created returns (being written)."""

from portal.auth.roles import staff_required
from portal.merchant import bp


@bp.route("/orders")
@staff_required
def orders():
    return "not yet", 501


@bp.route("/orders/<number>")
@staff_required
def order(number):
    return "not yet", 501
