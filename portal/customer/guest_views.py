"""Guest returns: look an order up by number and email, get a single-use link by email, and open
that one order (and its returns) without an account."""

from flask import current_app, redirect, render_template, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from portal.customer.access import grant_guest
from portal.customer.forms import ActionForm, LookupForm
from portal.customer.guest_links import GuestLinkError, make_token, open_token, read_token
from portal.customer.views import bp
from portal.db import db
from portal.extensions import limiter
from portal.models import Order, User
from portal.outbox import enqueue_email

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
        token, jti = make_token(current_app.config["SECRET_KEY"], order)
        with db.atomic():
            enqueue_email(
                "guest_link",
                order.email,
                f"guest-link:{jti}",
                context={
                    "link": url_for("customer.guest_link", token=token, _external=True),
                    "order_number": order.number,
                    "valid_for": _hours(max_age),
                },
            )
    return render_template("customer/lookup_sent.html", valid_for=_hours(max_age))


@bp.errorhandler(RateLimitExceeded)
def lookup_rate_limited(error):
    return render_template("customer/lookup.html", form=LookupForm(formdata=None),
                           rate_limited=RATE_LIMITED), 429  # fmt: skip


@bp.errorhandler(CSRFError)
def csrf_refused(error):
    message = ("This form had expired or did not come from this site, so nothing was changed. "
               "Go back, reload the page and try again.")  # fmt: skip
    return render_template("customer/problem.html", title="Please try again",
                           message=message), 400  # fmt: skip


@bp.route("/guest/<token>", methods=["GET", "POST"])
def guest_link(token):
    """GET shows a button (mail scanners that follow links don't use the link up); POST opens
    the order: the link is marked used and this browser may see that order and its returns."""
    config = current_app.config
    form = ActionForm()
    try:
        if form.validate_on_submit():
            order = open_token(config["SECRET_KEY"], token, config["GUEST_LINK_MAX_AGE"])
            grant_guest(order.number)
            return redirect(url_for("customer.order_detail", number=order.number), code=303)
        order, _ = read_token(config["SECRET_KEY"], token, config["GUEST_LINK_MAX_AGE"])
    except GuestLinkError as exc:
        return render_template("customer/guest_link.html", error=str(exc), form=form), 410
    return render_template("customer/guest_link.html", order=order, form=form)
