"""Sign-in (flask-login), roles and the login manager setup."""

from flask import redirect, request, url_for

from portal.extensions import login_manager


def init_login(app):
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id):
        from portal.models import User

        if not str(user_id).isdigit():
            return None
        user = User.get_or_none(User.id == int(user_id))
        return user if user and user.active else None

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request") == "true":
            # A plain 302 would be followed by the XHR and swap the login page into a fragment.
            response = app.response_class(status=204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)
