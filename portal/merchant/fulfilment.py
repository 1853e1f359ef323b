"""The fulfilment list (staff): exchange orders to ship, awaiting the shopper's payment, shipped
and delivered. Ship one (carrier, tracking number, the location it leaves from), record a
payment (managers), mark one delivered: each a POST calling one domain function
(portal.returns.exchanges), then back to the list. What the list shows comes from
portal.returns.fulfilment."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from portal.auth.roles import role_required, staff_required
from portal.merchant import bp
from portal.merchant import forms as f
from portal.merchant.actions import pay_call, ship_call, ship_form
from portal.merchant.detail import _default, location_choices
from portal.models import ExchangeOrder, ReturnPolicy
from portal.pagination import page_number
from portal.returns import exchange_states, exchanges
from portal.returns import fulfilment as read
from portal.returns.detail import active_locations
from portal.web import actor, cache_generation, run_action


def _forms(page, locations, bound=None):
    """A form per row and action, prefilled (the return's version, the default location)."""
    bound = bound or {}
    default = _default(locations, "sellable", ReturnPolicy.current().default_location_id)
    forms = {}
    for order in page.items:
        version = order.rma.version
        name = f"ship{order.id}"
        if order.status == exchange_states.READY:
            forms[name] = bound.get(name) or f.ShipForm(formdata=None, prefix=name,
                                                        version=version, location=default)  # fmt: skip
            forms[name].location.choices = location_choices(locations, "sellable")
        elif order.status == exchange_states.AWAITING_PAYMENT:
            name = f"pay{order.id}"
            forms[name] = bound.get(name) or f.ExchangePaymentForm(formdata=None, prefix=name,
                                                                   version=version)  # fmt: skip
        elif order.status == exchange_states.SHIPPED:
            name = f"deliver{order.id}"
            forms[name] = bound.get(name) or f.ActionForm(formdata=None, prefix=name,
                                                          version=version)  # fmt: skip
    return forms


def _render(status, bound=None, code=200, error=None):
    counts = read.counts()
    page, status = read.page_of(status, page_number(request.args.get("page")),
                                current_app.config["PER_PAGE"], counts.get(status))  # fmt: skip
    locations = active_locations(cache_generation())
    return render_template(
        "merchant/fulfilment.html", page=page, status=status, counts=counts, tabs=read.TABS,
        forms=_forms(page, locations, bound), error=error, labels=exchange_states.LABELS,
    ), code  # fmt: skip


@bp.route("/fulfilment")
@staff_required
def fulfilment():
    """Exchange orders by status: to ship first (oldest first)."""
    return _render(request.args.get("status", exchange_states.READY))[0]


def _order(order_id):
    order = ExchangeOrder.get_or_none(ExchangeOrder.id == order_id)
    if order is None:
        abort(404)
    return order


def _act(order, name, form, call, message):
    def refused(text, error):
        return _render(order.status, {name: form}, 422, error=f"{order.reference}: {text}")

    def done(result):
        flash(message(result), "success")
        return redirect(url_for("merchant.fulfilment", status=order.status), code=303)

    return run_action(form, call, refused, done)


@bp.route("/fulfilment/<int:order_id>/ship", methods=["POST"])
@staff_required
def fulfilment_ship(order_id):
    order = _order(order_id)
    form = ship_form(f"ship{order.id}")
    return _act(order, f"ship{order.id}", form, ship_call(order, form),
                lambda o: f"{o.reference} shipped with {o.carrier} ({o.tracking_number}); the "
                          f"shopper is emailed the tracking number.")  # fmt: skip


@bp.route("/fulfilment/<int:order_id>/payment", methods=["POST"])
@role_required("manager", exchanges.MANAGERS)
def fulfilment_payment(order_id):
    order = _order(order_id)
    form = f.ExchangePaymentForm(prefix=f"pay{order.id}")
    return _act(order, f"pay{order.id}", form, pay_call(order, form),
                lambda o: f"Payment recorded: {o.reference} is ready to ship.")  # fmt: skip


@bp.route("/fulfilment/<int:order_id>/delivered", methods=["POST"])
@staff_required
def fulfilment_delivered(order_id):
    order = _order(order_id)
    form = f.ActionForm(prefix=f"deliver{order.id}")
    return _act(order, f"deliver{order.id}", form,
                lambda: exchanges.deliver(order, actor(), form.version.data),
                lambda o: f"{o.reference} delivered.")  # fmt: skip
