"""Sign in and sign out."""

from functools import cache

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth import bp
from portal.auth.forms import LoginForm
from portal.auth.roles import home_for
from portal.extensions import limiter
from portal.models import User
from portal.web import safe_local_url

RATE_LIMITED = "Too many sign-in attempts. Please wait a minute and try again."


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@cache
def _dummy_hash():
    return generate_password_hash("not-a-real-password", method="scrypt")


def _spend_a_hash(password):
    check_password_hash(_dummy_hash(), password or "")


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(home_for(current_user)))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=None)
def login():
    if current_user.is_authenticated:
        return redirect(url_for(home_for(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        if user is None:
            _spend_a_hash(form.password.data)  # same work as a wrong password: no timing oracle
        if user is None or not user.active or not user.check_password(form.password.data):
            form.password.errors.append("That email and password don't match an active account.")
        else:
            login_user(user, remember=form.remember.data)
            return redirect(safe_local_url(request.args.get("next")) or url_for(home_for(user)))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.errorhandler(RateLimitExceeded)
def rate_limited(error):
    form = LoginForm()
    form.email.errors = []
    return render_template("auth/login.html", form=form, rate_limited=RATE_LIMITED), 429


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
