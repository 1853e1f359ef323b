"""An account's sign-in and security page, for shoppers and staff alike: change the password,
turn two-factor sign-in on or off, and sign out everywhere."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import REMEMBER, bp, forget_browser, remember_browser
from portal.auth.forms import ChangePasswordForm, CodeForm, DisableTwoFactorForm
from portal.auth.views import hash_method, qr_data_uri, rules
from portal.returns import account_security as security
from portal.returns import two_factor
from portal.web import EmptyForm, actor, run_action


def _page(status=200, error=None, **forms):
    user = current_user
    return render_template(
        "auth/security.html",
        password_form=forms.get("password") or ChangePasswordForm(formdata=None),
        disable_form=forms.get("disable") or DisableTwoFactorForm(formdata=None),
        empty_form=EmptyForm(formdata=None),
        codes_left=two_factor.recovery_codes_left(user) if user.totp_enabled else 0,
        required=two_factor.required(user, current_app.config["REQUIRE_STAFF_TOTP"]),
        error=error,
    ), status


def _refused(**forms):
    def refused(message, error):
        return _page(422, message if error else "Check the highlighted fields.", **forms)

    return refused


@bp.route("/account/security")
@login_required
def security_page():
    """Password, two-factor sign-in and sessions of the signed-in account."""
    return _page()


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()

    def changed(user):
        login_user(user)  # this browser goes on with the new session generation
        if request.cookies.get(REMEMBER):
            remember_browser(user)  # and keeps being remembered, with a new token
        flash(gettext("Your password is changed. Your other sessions have ended."), "success")
        return redirect(url_for("auth.security_page"), code=303)

    return run_action(
        form,
        lambda: security.change_password(
            actor(),
            form.current.data,
            form.password.data,
            form.confirm.data,
            hash_method(),
            request.remote_addr,
            rules(),
        ),  # fmt: skip
        _refused(password=form),
        changed,
    )


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    def ended(_):
        logout_user()
        forget_browser()
        flash(gettext("You are signed out on every browser and device."), "success")
        return redirect(url_for("auth.login"), code=303)

    return run_action(EmptyForm(), lambda: security.end_sessions(actor(), "everywhere"),
                      _refused(), ended)  # fmt: skip


# --- two-factor sign-in ------------------------------------------------------------------------


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """POST starts the setup (a new secret); GET shows its QR code and asks for the first
    code."""
    if request.method == "POST":
        return run_action(EmptyForm(), lambda: two_factor.start_enrolment(actor()), _refused(),
                          lambda _: redirect(url_for("auth.two_factor_setup"), code=303))  # fmt: skip
    if current_user.totp_enabled:
        return redirect(url_for("auth.security_page"))
    if not current_user.totp_secret:
        return _page(409, "Start the setup of two-factor sign-in first.")
    return _enrol_page(CodeForm(formdata=None))


def _enrol_page(form, status=200):
    return render_template("auth/enrol.html", form=form, qr=qr_data_uri(current_user),
                           secret=current_user.totp_secret,
                           action=url_for("auth.confirm_two_factor"), required=False), status  # fmt: skip


@bp.route("/account/two-factor/confirm", methods=["POST"])
@login_required
def confirm_two_factor():
    if current_user.totp_enabled:
        return redirect(url_for("auth.security_page"), code=303)
    if not current_user.totp_secret:
        return _page(409, "Start the setup of two-factor sign-in first.")
    form = CodeForm()

    def refused(message, error):
        if error:
            form.code.errors.append(message)
        return _enrol_page(form, 422)

    return run_action(
        form,
        lambda: two_factor.confirm_enrolment(actor(), form.code.data),
        refused,
        lambda codes: render_template(
            "auth/recovery_codes.html", codes=codes, next_url=url_for("auth.security_page")
        ),  # fmt: skip
    )


@bp.route("/account/two-factor/disable", methods=["POST"])
@login_required
def disable_two_factor():
    form = DisableTwoFactorForm()

    def disabled(_):
        flash(gettext("Two-factor sign-in is off."), "success")
        return redirect(url_for("auth.security_page"), code=303)

    return run_action(
        form,
        lambda: two_factor.disable(
            actor(), form.password.data, form.code.data, current_app.config["REQUIRE_STAFF_TOTP"]
        ),  # fmt: skip
        _refused(disable=form),
        disabled,
    )
