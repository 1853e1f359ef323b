"""Sign-in and sign-out (flask-login), the login manager setup, and the role check (roles.py).
The routes are in views.py, on this package's blueprint."""

from flask import Blueprint, redirect, request, url_for

from portal.extensions import login_manager
from portal.models import User

bp = Blueprint("auth", __name__)


def init_login(app):
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id):
        if not str(user_id).isdigit():
            return None
        user = User.get_or_none(User.id == int(user_id))
        return user if user and user.active else None

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.htmx:
            # A plain 302 would be followed by the XHR and swap the login page into a fragment.
            response = app.response_class(status=204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)


from portal.auth import views  # noqa: E402, F401  (routes on bp)
