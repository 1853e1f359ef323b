"""The one role check for views. Permissions are always checked on the server, per request."""

from functools import wraps

from flask import abort, render_template
from flask_login import current_user, login_required


def role_required(minimum, message=None):
    """Require a signed-in staff member of at least `minimum` (agent < manager < admin).

    A shopper gets the plain 403 page; a staff member without the role gets `message` in words
    (when there is one), so they know whom to ask."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.is_staff:
                abort(403)
            if not current_user.has_role(minimum):
                if message is None:
                    abort(403)
                return render_template("merchant/forbidden.html", message=message), 403
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required("agent")
manager_required = role_required("manager")
admin_required = role_required("admin")


def home_for(user):
    return "merchant.queue" if user.is_staff else "customer.orders"
