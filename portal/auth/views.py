"""Signing in (the password, then a second-factor code or the required enrolment), signing out,
a forgotten password and the emailed unlock link. Every refusal of a sign-in says the same."""

import time
from urllib.parse import urlsplit

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from portal import i18n
from portal.auth import bp, forget_browser, remember_browser
from portal.auth.forms import CodeForm, ForgotForm, LanguageForm, LoginForm, NewPasswordForm
from portal.auth.roles import home_for
from portal.extensions import limiter
from portal.returns import account_security as security
from portal.returns import accounts, two_factor
from portal.returns.errors import DomainError
from portal.returns.marks import N_
from portal.web import EmptyForm, first_error, safe_local_url

RATE_LIMITED = N_("Too many sign-in attempts. Please wait a minute and try again.")
PENDING = "signin_pending"  # the session's half-finished sign-in: password right, code to come
START_AGAIN = N_("Your sign-in took too long or is no longer valid. Please sign in again.")


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def rules():
    config = current_app.config
    return security.LockRules(config["LOGIN_LOCK_FAILURES"], config["LOGIN_LOCK_MINUTES"],
                              config["LOGIN_LOCK_MAX_MINUTES"])  # fmt: skip


def hash_method():
    return current_app.config["PASSWORD_HASH_METHOD"]


def qr_data_uri(user):
    """The enrolment QR code (an SVG data URI; the CSP allows data: images)."""
    uri = two_factor.provisioning_uri(user, current_app.config["TOTP_ISSUER"])
    return segno.make(uri, error="m").svg_data_uri(scale=4)


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
        try:
            user = security.check_password(form.email.data, form.password.data,
                                           request.remote_addr, rules(), hash_method=hash_method())  # fmt: skip
        except security.SignInRefused as exc:
            form.password.errors.append(str(exc))
        else:
            return _after_password(user, form.remember.data, request.args.get("next"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _after_password(user, remember, next_url):
    """The password was right: a second step when the account has one (or must enrol)."""
    enrol = not user.totp_enabled and two_factor.required(
        user, current_app.config["REQUIRE_STAFF_TOTP"]
    )
    if not user.totp_enabled and not enrol:
        return _finish(user, remember, next_url, "password")
    if enrol:
        user = two_factor.start_enrolment(user)
    session[PENDING] = {"user": user.id, "version": user.session_version, "remember": bool(remember),
                        "next": safe_local_url(next_url) or "", "enrol": enrol,
                        "until": time.time() + current_app.config["SIGNIN_CODE_SECONDS"]}  # fmt: skip
    return redirect(url_for("auth.login_enrol" if enrol else "auth.login_code"), code=303)


def _pending(enrol):
    """The user of this browser's half-finished sign-in, or None (then it starts again)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("enrol") != enrol:
        return None, None
    if time.time() > pending.get("until", 0):
        session.pop(PENDING, None)
        return None, None
    return security.pending_user(pending.get("user"), pending.get("version")), pending


def _finish(user, remember, next_url, method):
    user = security.sign_in_succeeded(user, request.remote_addr, method)
    # The language this browser used until now becomes the account's, unless it has one.
    accounts.set_locale(user, i18n.select_locale(), only_if_unset=True)
    session.pop(PENDING, None)
    login_user(user)
    if remember:
        remember_browser(user)
    return redirect(safe_local_url(next_url) or url_for(home_for(user)))


def _start_again():
    session.pop(PENDING, None)
    flash(gettext(START_AGAIN), "info")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=None)
def login_code():
    """The second step: a code from the authenticator app, or a recovery code."""
    user, pending = _pending(enrol=False)
    if user is None:
        return _start_again()
    form = CodeForm()
    if form.validate_on_submit():
        if two_factor.check_code(user, form.code.data):
            return _finish(user, pending["remember"], pending["next"], "password and code")
        if security.sign_in_failed(user, "wrong code", request.remote_addr, rules()):
            return _start_again()  # that failure locked the account
        form.code.errors.append(two_factor.WRONG_CODE)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login_code.html", form=form), status


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=None)
def login_enrol():
    """A manager or admin without two-factor sign-in sets it up before being signed in."""
    user, pending = _pending(enrol=True)
    if user is None:
        return _start_again()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(user, form.code.data)
        except DomainError as exc:
            form.code.errors.append(str(exc))
        else:
            _finish(user, pending["remember"], pending["next"], "password, enrolled")
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next_url=pending["next"] or url_for(home_for(user)))  # fmt: skip
    status = 422 if request.method == "POST" else 200
    return render_template("auth/enrol.html", form=form, qr=qr_data_uri(user),
                           secret=user.totp_secret, action=url_for("auth.login_enrol"),
                           required=True), status  # fmt: skip


@bp.errorhandler(RateLimitExceeded)
def rate_limited(error):
    form = LoginForm()
    form.email.errors = []
    return render_template("auth/login.html", form=form, rate_limited=RATE_LIMITED), 429


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Signing out ends every session of the account on the server (the session generation):
    a copied session or remember-me cookie no longer signs in."""
    security.end_sessions(current_user, "sign-out")
    logout_user()
    forget_browser()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


# --- a forgotten password, and the emailed unlock link ---------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=None)
def forgot_password():
    """The answer is the same whether or not the email has an account."""
    form = ForgotForm()
    if form.validate_on_submit():
        security.request_password_reset(form.email.data, request.remote_addr)
        minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
        return render_template("auth/forgot_sent.html", minutes=minutes)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=None)
def reset_password(token):
    form = NewPasswordForm()
    try:
        if request.method == "POST":
            if not form.validate_on_submit():
                raise DomainError(first_error(form))
            security.reset_password(token, form.password.data, form.confirm.data, hash_method())
            flash(gettext("Your password is changed, and every session of your account has ended. "
                    "Sign in with the new password."), "success")  # fmt: skip
            return redirect(url_for("auth.login"), code=303)
        security.read_token(token, security.RESET)
    except security.TokenInvalid as exc:
        return render_template("auth/reset.html", form=form, error=str(exc), dead=True), 410
    except DomainError as exc:
        return render_template("auth/reset.html", form=form, error=str(exc)), 422
    return render_template("auth/reset.html", form=form)


@bp.route("/unlock/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=None)
def unlock(token):
    """GET shows a button (mail scanners that follow links don't use the link up)."""
    form = EmptyForm()
    try:
        if form.validate_on_submit():
            security.unlock(token)
            flash(gettext("Your account is unlocked. Sign in again."), "success")
            return redirect(url_for("auth.login"), code=303)
        if request.method == "POST":
            raise DomainError(first_error(form))
        security.read_token(token, security.UNLOCK)
    except security.TokenInvalid as exc:
        return render_template("auth/unlock.html", form=form, error=str(exc), dead=True), 410
    except DomainError as exc:
        return render_template("auth/unlock.html", form=form, error=str(exc)), 422
    return render_template("auth/unlock.html", form=form)


def _same_site_path(referrer):
    """The page the switch was on (its Referer, when it is this site's), to go back to."""
    parts = urlsplit(referrer or "")
    if parts.netloc != request.host:
        return None
    return safe_local_url(parts.path + (f"?{parts.query}" if parts.query else ""))


@bp.route("/language", methods=["POST"])
def set_language():
    """The language switch: a cookie for everyone, and the account's language when signed in."""
    form = LanguageForm()
    lang = form.lang.data if form.validate_on_submit() else None
    back = _same_site_path(request.referrer) or url_for("auth.index")
    if lang is None:
        flash(gettext("Choose English or Deutsch."), "error")
        return redirect(back, code=303)
    if current_user.is_authenticated:
        accounts.set_locale(current_user, lang)
    response = redirect(back, code=303)
    response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)  # fmt: skip
    return response
