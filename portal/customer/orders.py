"""Order history, and order pages with what can be returned (and if not, why)."""

from flask import current_app, render_template, request
from flask_login import current_user, login_required

from portal.customer import bp
from portal.customer.access import guest_number, order_or_404, viewer_required
from portal.models import Order, OrderLine, Payment, Return
from portal.pagination import page_number, paginate
from portal.returns import eligibility


@bp.route("/orders")
@login_required
def orders():
    """The signed-in shopper's orders, newest first."""
    # Only what the list shows: each order's number, date and status, its lines' titles.
    query = (
        Order.select(Order.id, Order.number, Order.placed_at, Order.status)
        .where(Order.customer == current_user.id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
    )
    number = page_number(request.args.get("page"))
    lines = OrderLine.select(OrderLine.id, OrderLine.order, OrderLine.title).order_by(OrderLine.id)
    page = paginate(query, number, current_app.config["PER_PAGE"], lines)
    return render_template("customer/orders.html", page=page)


@bp.route("/orders/<number>")
@viewer_required
def order_detail(number):
    """One order: its lines with ordered / already returned / returnable units, and why not."""
    order = order_or_404(number)
    policy, lines, (payments, returns) = eligibility.for_order_together(
        order, "shopper", lambda order_id: [
            Payment.select().where(Payment.order == order_id)
            .order_by(Payment.position, Payment.id),
            Return.select().where(Return.order == order_id)
            .order_by(Return.created_at.desc(), Return.id.desc()),
        ],
    )  # fmt: skip
    return render_template(
        "customer/order.html",
        order=order,
        lines=lines,
        payments=payments,
        policy=policy,
        returns=returns,
        can_return=eligibility.anything_returnable(lines),
        is_guest=guest_number() == order.number,
    )
