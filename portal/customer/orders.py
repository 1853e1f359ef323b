"""Order history, and order pages with what can be returned (and if not, why)."""

from flask import current_app, render_template, request
from flask_login import current_user, login_required

from portal.customer import bp
from portal.customer.access import guest_number, order_or_404, viewer_required
from portal.customer.paths import PathFor
from portal.i18n import order_status
from portal.models import ExchangeOrder, Payment, Refund, Return
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
    policy, lines, (payments, returns, refunds, shipments) = eligibility.for_order_together(
        order, "shopper", _order_page_queries
    )
    return render_template(
        "customer/order.html",
        order=order,
        lines=lines,
        payments=payments,
        policy=policy,
        returns=returns,
        words=_status_words(returns, refunds, shipments),
        can_return=eligibility.anything_returnable(lines),
        images=catalogue.images_for([e.line for e in lines]),
        is_guest=guest_number() == order.number,
    )


def _order_page_queries(order_id):
    """What the order page reads beside its lines (in eligibility.for_order_together's one
    statement): payments, returns, and what their status words depend on."""
    rma_ids = Return.select(Return.id).where(Return.order == order_id)
    return [
        Payment.select().where(Payment.order == order_id).order_by(Payment.position, Payment.id),
        Return.select().where(Return.order == order_id)
        .order_by(Return.created_at.desc(), Return.id.desc()),
        Refund.select(Refund.id, Refund.rma, Refund.status).where(Refund.rma.in_(rma_ids))
        .order_by(Refund.id),
        ExchangeOrder.select(ExchangeOrder.id, ExchangeOrder.rma, ExchangeOrder.status)
        .where(ExchangeOrder.rma.in_(rma_ids))
        .order_by(ExchangeOrder.id),
    ]  # fmt: skip


def _status_words(returns, refunds, shipments):
    """shopper_words.status_words() from rows already read."""
    by_return = ({}, {})
    for rows, found in zip((refunds, shipments), by_return, strict=True):
        for row in rows:
            found.setdefault(row.rma_id, []).append(row.status)
    return {rma.id: shopper_words.status_word(rma, by_return[0].get(rma.id, ()),
                                              by_return[1].get(rma.id, ()))
            for rma in returns}  # fmt: skip
