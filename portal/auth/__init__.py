"""Sign-in and sign-out (flask-login), the login manager setup, and the role check (roles.py).
The routes are in views.py (signing in: password, second factor, forgotten password, unlock)
and account.py (an account's sign-in and security page), on this package's blueprint. The
rules are in portal.returns.account_security and portal.returns.two_factor."""

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_login import current_user, login_user

from portal.extensions import login_manager
from portal.returns import account_security, two_factor

bp = Blueprint("auth", __name__)

# The portal's own "Keep me signed in" cookie (a rotating RememberToken); flask-login's remember
# cookie is never set (login_user is never called with remember=True).
REMEMBER = "remember"
# Where a manager or admin without two-factor sign-in may still go while the store requires it.
OPEN_WHILE_ENROLLING = {"static", "health.healthz", "store_css", "store_logo"}
ENROL_FIRST = "The store requires two-factor sign-in for managers and admins: set it up to go on."


def remember_browser(user):
    """Give this browser a new "Keep me signed in" cookie (set on the response)."""
    g.remember_cookie = account_security.remember(
        user, current_app.config["REMEMBER_COOKIE_DURATION"]
    )


def forget_browser():
    """The response deletes this browser's remember-me cookie."""
    g.remember_cookie = None


def init_login(app):
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id):
        # "<id>:<session generation>": a cookie from before a sign-out, a password change or
        # a deactivation names an older generation and is refused.
        return account_security.user_for_session(session_id)

    @login_manager.request_loader
    def load_from_remember_cookie(req):
        # No signed-in session: a remember-me cookie may sign this browser in (and is rotated).
        raw = req.cookies.get(REMEMBER)
        if not raw:
            return None
        recalled = account_security.recall(raw, req.remote_addr)
        if recalled.user is None:
            g.remember_cookie = None  # refused: the browser forgets it
            return None
        if recalled.cookie:
            g.remember_cookie = (recalled.cookie, recalled.expires_at)
        login_user(recalled.user, fresh=False)  # this browser's session from now on
        return recalled.user

    @app.after_request
    def _remember_cookie(response):
        if "remember_cookie" not in g:
            return response
        config = current_app.config
        if g.remember_cookie is None:
            response.delete_cookie(REMEMBER, httponly=True, secure=config["REMEMBER_COOKIE_SECURE"],
                                   samesite="Lax")  # fmt: skip
        else:
            value, expires = g.remember_cookie
            response.set_cookie(REMEMBER, value, expires=expires, httponly=True, samesite="Lax",
                                secure=config["REMEMBER_COOKIE_SECURE"])  # fmt: skip
        return response

    @login_manager.unauthorized_handler
    def unauthorized():
        return _redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.before_request
    def _require_two_factor():
        endpoint = request.endpoint or ""
        if endpoint in OPEN_WHILE_ENROLLING or endpoint.startswith("auth."):
            return None
        user = current_user._get_current_object()  # once: each proxied access looks it up
        if (
            user.is_authenticated
            and not user.totp_enabled
            and two_factor.required(user, app.config["REQUIRE_STAFF_TOTP"])
        ):
            flash(ENROL_FIRST, "info")
            return _redirect(url_for("auth.security_page"))
        return None

    def _redirect(target):
        if request.htmx:
            # A plain 302 would be followed by the XHR and swap the login page into a fragment.
            response = app.response_class(status=204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)


from portal.auth import account, views  # noqa: E402, F401  (routes on bp)
