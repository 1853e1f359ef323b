"""Inventory locations and the stock page (being written)."""

from portal.auth.roles import role_required, staff_required
from portal.merchant import bp


@bp.route("/settings/locations")
@role_required("manager", "Only managers can change inventory locations.")
def locations():
    return "not yet", 501


@bp.route("/stock")
@staff_required
def stock():
    return "not yet", 501
