"""Role checks for views. Permissions are always checked on the server."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def role_required(minimum):
    """Require a signed-in staff member of at least `minimum` (agent < manager < admin)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.is_staff or not current_user.has_role(minimum):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required("agent")
manager_required = role_required("manager")
admin_required = role_required("admin")


def home_for(user):
    return "merchant.queue" if user.is_staff else "customer.orders"
