"""The audit page for admins (being written)."""

from portal.auth.roles import role_required
from portal.merchant import bp


@bp.route("/audit")
@role_required("admin", "Only admins can read the audit log.")
def audit_log():
    return "not yet", 501
