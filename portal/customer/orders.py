"""Order history, and order pages with what can be returned (and if not, why)."""

from flask import current_app, render_template, request
from flask_login import current_user, login_required

from portal.customer import bp
from portal.customer.access import guest_number, order_or_404, viewer_required
from portal.customer.paths import PathFor
from portal.i18n import order_status
from portal.models import Payment, Return
from portal.pagination import page_number
from portal.returns import catalogue, eligibility, shopper_words
from portal.returns.order_history import order_history

SEARCH_MAX = 100


@bp.route("/orders")
@login_required
def orders():
    """The signed-in shopper's orders, newest first, each saying whether something can still be
    returned and until when; `q` searches order numbers and product names."""
    search = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    page = order_history(current_user.id, search, page_number(request.args.get("page")),
                         current_app.config["PER_PAGE"])  # fmt: skip
    statuses = {order.status for order in page.items}
    return render_template("customer/orders.html", page=page, search=search,
                           status_words={status: order_status(status) for status in statuses},
                           order_path=PathFor("customer.order_detail"),
                           return_path=PathFor("customer.request_return"))  # fmt: skip


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
