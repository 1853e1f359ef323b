"""Guest returns: look an order up by number and email, get a single-use link by email, and open
that one order (and its returns) without an account."""

from flask import current_app, redirect, render_template, url_for
from flask_limiter.errors import RateLimitExceeded

from portal.customer import bp
from portal.customer.access import grant_guest
from portal.customer.forms import LookupForm
from portal.customer.guest_links import (
    WITHDRAW,
    GuestLinkError,
    open_token,
    purpose_of,
    read_token,
    send_link,
)
from portal.extensions import limiter
from portal.i18n import error_text
from portal.models import Order, User
from portal.web import EmptyForm

RATE_LIMITED = "Too many lookups from here. Please wait a minute and try again."


def _lookup_limit():
    return current_app.config["LOOKUP_RATE_LIMIT"]


def _hours(seconds):
    hours = max(1, round(seconds / 3600))
    return f"{hours} hour{'s' if hours != 1 else ''}"


@bp.route("/lookup", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, methods=["POST"], on_breach=None)
def lookup():
    """The page says the same whether or not the order and email match."""
    form = LookupForm()
    if not form.validate_on_submit():
        return render_template("customer/lookup.html", form=form), 422 if form.errors else 200
    number = form.number.data.strip().lstrip("#").strip()
    email = User.normalize_email(form.email.data)
    order = Order.get_or_none((Order.number == number) & (Order.email == email))
    max_age = current_app.config["GUEST_LINK_MAX_AGE"]
    if order is not None:
        send_link(
            current_app.config["SECRET_KEY"],
            order,
            _hours(max_age),
            lambda token: url_for("customer.guest_link", token=token, _external=True),
        )
    return render_template("customer/lookup_sent.html", valid_for=_hours(max_age))


@bp.errorhandler(RateLimitExceeded)
def lookup_rate_limited(error):
    return render_template("customer/lookup.html", form=LookupForm(formdata=None),
                           rate_limited=RATE_LIMITED), 429  # fmt: skip


@bp.route("/guest/<token>", methods=["GET", "POST"])
def guest_link(token):
    """GET shows a button (mail scanners that follow links don't use the link up); POST opens
    the order: the link is marked used and this browser may see that order and its returns."""
    config = current_app.config
    form = EmptyForm()
    withdrawing = purpose_of(config["SECRET_KEY"], token) == WITHDRAW
    try:
        if form.validate_on_submit():
            order = open_token(config["SECRET_KEY"], token, config["GUEST_LINK_MAX_AGE"])
            grant_guest(order.number)
            page = "customer.withdraw" if withdrawing else "customer.order_detail"
            return redirect(url_for(page, number=order.number), code=303)
        order, _ = read_token(config["SECRET_KEY"], token, config["GUEST_LINK_MAX_AGE"])
    except GuestLinkError as exc:
        return render_template("customer/guest_link.html", error=error_text(exc), form=form,
                               withdrawing=withdrawing), 410  # fmt: skip
    return render_template("customer/guest_link.html", order=order, form=form,
                           withdrawing=withdrawing)  # fmt: skip


@bp.route("/withdraw", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, methods=["POST"], on_breach=None)
def withdraw_lookup():
    """Withdraw from a contract without an account: order number and email, then the emailed
    link (as the lookup) opens the withdrawal's first step. The page says the same whether or
    not the order and email match."""
    form = LookupForm()
    if not form.validate_on_submit():
        return render_template("customer/withdraw_lookup.html", form=form), (
            422 if form.errors else 200
        )
    number = form.number.data.strip().lstrip("#").strip()
    email = User.normalize_email(form.email.data)
    order = Order.get_or_none((Order.number == number) & (Order.email == email))
    max_age = current_app.config["GUEST_LINK_MAX_AGE"]
    if order is not None:
        send_link(current_app.config["SECRET_KEY"], order, _hours(max_age),
                  lambda token: url_for("customer.guest_link", token=token, _external=True),
                  purpose=WITHDRAW)  # fmt: skip
    return render_template("customer/lookup_sent.html", valid_for=_hours(max_age),
                           withdrawing=True)  # fmt: skip
