"""Order history, and order pages with what can be returned (and if not, why)."""

from flask import current_app, render_template, request
from flask_login import current_user, login_required

from portal.customer import bp
from portal.customer.access import guest_number, order_or_404, viewer_required
from portal.models import Order, OrderLine, Payment, Return
from portal.pagination import page_number, paginate
from portal.returns import catalogue, eligibility, shopper_words

SEARCH_MAX = 100


@bp.route("/orders")
@login_required
def orders():
    """The signed-in shopper's orders, newest first, each saying whether something can still be
    returned and until when; `q` searches order numbers and product names."""
    search = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    # Only what the list shows and what eligibility.for_orders and catalogue.images_for read.
    query = Order.select(Order.id, Order.number, Order.placed_at, Order.status,
                         Order.delivered_at).where(Order.customer == current_user.id)  # fmt: skip
    if search:
        titles = OrderLine.select(OrderLine.order).where(OrderLine.title.contains(search))
        query = query.where(Order.number.contains(search.lstrip("#")) | Order.id.in_(titles))
    query = query.order_by(Order.placed_at.desc(), Order.id.desc())
    number = page_number(request.args.get("page"))
    lines = OrderLine.select(
        OrderLine.id, OrderLine.order, OrderLine.title, OrderLine.quantity, OrderLine.final_sale,
        OrderLine.invoice_number, OrderLine.delivered_at, OrderLine.replaces, OrderLine.bundle,
        OrderLine.image_url, OrderLine.product_variant,
    ).order_by(OrderLine.id)  # fmt: skip
    page = paginate(query, number, current_app.config["PER_PAGE"], lines)
    shown = [line for order in page.items for line in order.lines]
    return render_template("customer/orders.html", page=page, search=search,
                           summaries=eligibility.for_orders(page.items),
                           images=catalogue.images_for(shown))  # fmt: skip


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
        words=shopper_words.status_words(returns),
        can_return=eligibility.anything_returnable(lines),
        images=catalogue.images_for([e.line for e in lines]),
        is_guest=guest_number() == order.number,
    )
