"""Shopper side: order history and order pages. Another shopper's order is a 404."""

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required

from portal.models import Order, OrderLine, Payment
from portal.pagination import page_number, paginate

bp = Blueprint("customer", __name__)


def shopper_order_or_404(number):
    order = Order.get_or_none((Order.number == number) & (Order.customer == current_user.id))
    if order is None:
        abort(404)
    return order


@bp.route("/orders")
@login_required
def orders():
    query = (
        Order.select()
        .where(Order.customer == current_user.id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
    )
    number = page_number(request.args.get("page"))
    page = paginate(query, number, current_app.config["PER_PAGE"], OrderLine)
    return render_template("customer/orders.html", page=page)


@bp.route("/orders/<number>")
@login_required
def order_detail(number):
    order = shopper_order_or_404(number)
    lines = list(order.lines.order_by(OrderLine.id))
    payments = list(order.payments.order_by(Payment.position, Payment.id))
    return render_template("customer/order.html", order=order, lines=lines, payments=payments)
