"""Order history, and order pages with what can be returned (and if not, why)."""

from flask import current_app, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from portal.customer import bp
from portal.customer.access import guest_number, order_or_404, viewer_required
from portal.customer.plurals import PluralForms
from portal.customer.words import money_formatter, translated_formatter
from portal.i18n import date_formatter, money, order_status, translated
from portal.models import ExchangeOrder, Payment, Refund, Return
from portal.pagination import page_number
from portal.paths import PathFor
from portal.returns import catalogue, eligibility, shopper_words
from portal.returns.order_history import order_history
from portal.returns.pickers import return_policy
from portal.stencils import Stencil, html_text
from portal.web import cache_generation

SEARCH_MAX = 100


@bp.route("/orders")
@login_required
def orders():
    """The signed-in shopper's orders, newest first, each saying whether something can still be
    returned and until when; `q` searches order numbers and product names."""
    search = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    page = order_history(current_user.id, search, page_number(request.args.get("page")),
                         current_app.config["PER_PAGE"], return_policy(cache_generation()))  # fmt: skip
    return render_template("customer/orders.html", page=page, search=search,
                           cards=_cards(page.items))  # fmt: skip


# One order of the list (its values in this order; its shape: whether anything can be returned).
CARD = Stencil("customer/_order_card.html", ("number", "href", "status", "status_word",
               "placed_day", "line_count", "thumbs", "returnable_count", "until_day",
               "return_href"))  # fmt: skip
PLACED = ("Placed %(day)s · %(count)s item", "Placed %(day)s · %(count)s items")
CAN_RETURN = ("%(count)s item can be returned.", "%(count)s items can be returned.")
CAN_RETURN_UNTIL = ("%(count)s item can be returned until %(day)s.",
                    "%(count)s items can be returned until %(day)s.")  # fmt: skip


THUMB = '<img src="{}" alt="" width="40" height="40" loading="lazy" class="thumb"> '


def _thumbs(shown, more):
    """The card's line of pictures and titles (a Jinja loop with loop.last cost a LoopContext
    per card)."""
    parts = [(THUMB.format(html_text(picture)) if picture else "") + html_text(title)
             for title, picture in shown]  # fmt: skip
    return Markup(", ".join(parts) + (", …" if more else ""))


def _cards(orders):
    """Each order's card (customer/_order_card.html): its links, words, dates and sentences
    made once per page, the card filled as a stencil."""
    detail, request = PathFor("customer.order_detail"), PathFor("customer.request_return")
    words = {status: order_status(status) for status in {order.status for order in orders}}
    say = PluralForms()
    days, date = {}, date_formatter()

    def day(value):
        if value not in days:
            days[value] = date(value)
        return days[value]

    cards = []
    for order in orders:
        number, count, lines = order.number, order.returnable, order.line_count
        shape = {"returnable": bool(count), "until": bool(count and order.until), "count_n": 0,
                 "lines_n": say.same_form(*PLACED, lines)}  # fmt: skip
        return_href = until = ""
        if count:
            return_href = request(number)
            shape["count_n"] = say.same_form(*(CAN_RETURN_UNTIL if order.until else CAN_RETURN),
                                             count)  # fmt: skip
            until = day(order.until) if order.until else ""
        cards.append(((number, detail(number), order.status, words[order.status],
                       day(order.placed_at), lines, _thumbs(order.shown, order.more), count,
                       until, return_href), shape))  # fmt: skip
    return CARD.rows(cards)


@bp.route("/orders/<number>")
@viewer_required
def order_detail(number):
    """One order: its lines with ordered / already returned / returnable units, and why not."""
    order = order_or_404(number)
    policy, lines, (payments, returns, refunds, shipments) = eligibility.for_order_together(
        order, "shopper", _order_page_queries, policy=return_policy(cache_generation())
    )
    # The `date`, `money` and `translated` filters with the language looked up once.
    day_of, money_of, tr = date_formatter(), money_formatter(), translated_formatter()
    images = catalogue.images_for([e.line for e in lines])
    return render_template(
        "customer/order.html",
        order=order,
        line_rows=line_rows(lines, images, policy, order.currency, day_of, money_of, tr),
        money_of=money_of,
        tr=tr,
        payments=payments,
        policy=policy,
        returns=returns,
        words=_status_words(returns, refunds, shipments),
        can_return=eligibility.anything_returnable(lines),
        is_guest=guest_number() == order.number,
        day_of=day_of,
    )


# One line of the order page's table (its values in this order; its shape: what it shows).
LINE = Stencil("customer/_order_line.html", ("id", "image", "title", "variant_text", "reason",
               "last_day", "zone", "price", "ordered", "taken", "returnable"))  # fmt: skip


def line_rows(lines, images, policy, currency, day_of, money_of=money, tr=translated):
    """Each line of the order page's table (customer/_order_line.html) filled as a stencil,
    what the page's loop over its LineEligibility `lines` rendered: `images` {line id: picture},
    `day_of`, `money_of`, `tr`: the page's date_formatter(), money_formatter(),
    translated_formatter()."""
    rows = []
    for e in lines:
        line, verdict = e.line, e.verdict
        image, variant_text, reason = images.get(line.id), line.variant_text, verdict.reason
        why = "reason" if reason else "until" if verdict.last_day else ""
        shape = {"bundle": bool(line.bundle_id), "pictured": bool(image),
                 "variant": bool(variant_text), "final_sale": bool(line.final_sale), "why": why}  # fmt: skip
        rows.append(((line.id, image, line.title, variant_text,
                      tr(reason) if why == "reason" else "",
                      day_of(verdict.last_day) if why == "until" else "", policy.timezone,
                      money_of(line.unit_total, currency), verdict.ordered, verdict.taken,
                      e.returnable), shape))  # fmt: skip
    return LINE.rows(rows)


def _order_page_queries(order_id):
    """What the order page reads beside its lines (in eligibility.for_order_together's one
    statement): payments, returns (the columns the page shows), and what their status words
    depend on."""
    rma_ids = Return.select(Return.id).where(Return.order == order_id)
    return [
        Payment.select(Payment.id, Payment.method, Payment.amount, Payment.position)
        .where(Payment.order == order_id).order_by(Payment.position, Payment.id),
        Return.select(Return.id, Return.reference, Return.kind, Return.status, Return.created_at)
        .where(Return.order == order_id)
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
